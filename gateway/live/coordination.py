"""What the live feed shares with the other replicas, behind one interface, and its in-process form.

:class:`Coordinator` is everything :class:`~gateway.live.hub.LiveFeed` needs beyond its own
process: the refresh lease of an (integration, model), its watermark, the de-duplication of
webhook event ids, and a message bus per integration (hints and changed records). Two forms:
:class:`LocalCoordinator` (no ``GATEWAY_REDIS_URL``: one process is the whole cluster) and
:class:`gateway.live.redis.RedisCoordinator` (every replica on one Redis).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from gateway.lru import BoundedLRU

__all__ = [
    "EVENT_ID_SECONDS",
    "MAX_REMEMBERED_EVENTS",
    "Coordinator",
    "LocalCoordinator",
    "OnMessage",
]

EVENT_ID_SECONDS = 24 * 3600
"""How long a webhook event id is remembered (Kombo retries a failed delivery within hours)."""
MAX_REMEMBERED_EVENTS = 100_000
"""Event ids one process remembers without Redis (~150 bytes each: ~15 MB at most)."""

OnMessage = Callable[[str, bytes], None]
"""Called with (integration id, message) for each message of a watched integration."""


class Coordinator(Protocol):
    """The cluster as one feed sees it. ``key`` is an (integration, model) pair's own string
    (:func:`gateway.live.feed.refresh_key`); ``token`` identifies one lease holder."""

    async def start(self, on_message: OnMessage) -> None:
        """Begin receiving the messages of watched integrations."""

    async def aclose(self) -> None:
        """Stop receiving; give back connections."""

    def watch(self, integration_id: str) -> None:
        """Receive ``integration_id``'s messages (from now on; it may take a moment)."""

    def unwatch(self, integration_id: str) -> None:
        """No more of ``integration_id``'s messages."""

    async def publish(self, integration_id: str, message: bytes) -> None:
        """Send ``message`` to every feed watching ``integration_id``, this one included."""

    async def claim_event(self, event_id: str) -> bool:
        """True the first time ``event_id`` is claimed (within :data:`EVENT_ID_SECONDS`)."""

    async def hold_lease(self, key: str, token: str, seconds: float) -> bool:
        """Take the lease of ``key`` for ``token``, or extend it when ``token`` holds it, for
        ``seconds``; False when another token holds it."""

    async def release_lease(self, key: str, token: str) -> None:
        """Give the lease of ``key`` back, if ``token`` holds it."""

    async def watermark(self, key: str) -> str | None:
        """The watermark of ``key`` (an ``updated_after`` value), if one is kept."""

    async def set_watermark(self, key: str, value: str, seconds: float, *, only_new: bool) -> None:
        """Keep ``value`` as the watermark of ``key`` for ``seconds`` (``only_new``: unless one
        is kept already)."""


class LocalCoordinator:
    """The cluster of one process: the lease, watermarks and event ids in memory (event ids in a
    bounded LRU of :data:`MAX_REMEMBERED_EVENTS`), messages handed over directly."""

    def __init__(
        self,
        *,
        max_events: int = MAX_REMEMBERED_EVENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._on_message: OnMessage | None = None
        self._watched: dict[str, int] = {}
        self._events: BoundedLRU[str, bool] = BoundedLRU(max_events, max_events, clock=clock)
        self._leases: dict[str, tuple[str, float]] = {}
        self._watermarks: dict[str, tuple[str, float]] = {}

    async def start(self, on_message: OnMessage) -> None:
        self._on_message = on_message

    async def aclose(self) -> None:
        self._on_message = None

    def watch(self, integration_id: str) -> None:
        self._watched[integration_id] = self._watched.get(integration_id, 0) + 1

    def unwatch(self, integration_id: str) -> None:
        left = self._watched.get(integration_id, 0) - 1
        if left > 0:
            self._watched[integration_id] = left
        else:
            self._watched.pop(integration_id, None)

    async def publish(self, integration_id: str, message: bytes) -> None:
        if self._on_message is not None and integration_id in self._watched:
            self._on_message(integration_id, message)

    async def claim_event(self, event_id: str) -> bool:
        if self._events.get(event_id) is not None:
            return False
        self._events.put(event_id, True, 1, ttl=EVENT_ID_SECONDS)
        return True

    async def hold_lease(self, key: str, token: str, seconds: float) -> bool:
        now = self._clock()
        held = self._leases.get(key)
        if held is not None and held[0] != token and held[1] > now:
            return False
        self._leases[key] = (token, now + seconds)
        return True

    async def release_lease(self, key: str, token: str) -> None:
        held = self._leases.get(key)
        if held is not None and held[0] == token:
            del self._leases[key]

    async def watermark(self, key: str) -> str | None:
        kept = self._watermarks.get(key)
        if kept is None or kept[1] <= self._clock():
            return None
        return kept[0]

    async def set_watermark(self, key: str, value: str, seconds: float, *, only_new: bool) -> None:
        if only_new and await self.watermark(key) is not None:
            return
        self._watermarks[key] = (value, self._clock() + seconds)
