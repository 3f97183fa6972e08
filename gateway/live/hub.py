"""The live feed of one process: subscriptions, their bounded queues, and the fan-out of changes.

One :class:`LiveFeed` per process (the app's lifespan starts and closes it). A transport calls
:meth:`LiveFeed.subscribe` for one integration and a set of catalog models and reads the
:class:`LiveSubscription` as an async iterator of :class:`ChangeEvent`; ``POST /webhooks/kombo``
calls :meth:`LiveFeed.first_delivery` and :meth:`LiveFeed.hint`.

How a change travels: for each (integration, model) that has a subscriber here, a
:class:`~gateway.live.feed.Refresher` runs; the one holding that pair's lease (cluster-wide with
Redis) fetches what changed and publishes it on the integration's bus
(:class:`~gateway.live.coordination.Coordinator`); every feed watching the integration, this one
included, receives it and queues each record for its own subscribers of that model. A record
reaches a subscriber at most once: the feed drops an ``event_key`` it received in the last
:data:`RECENT_EVENTS` of that integration, and each subscription drops one of its own last
:data:`SUBSCRIBER_RECENT_EVENTS` (overlapping refreshes re-read a record; a lease handover
re-reads from the last watermark).

Bounded: subscriptions per integration and per process (:class:`LiveLimitExceeded`), changes
waiting per subscription (a full queue ends that subscription, ``overflowed`` true).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.kombo.catalog import CATALOG
from gateway.live.coordination import Coordinator, LocalCoordinator
from gateway.live.feed import Lister, Refresher, RefreshPolicy, event_key
from gateway.live.observer import NO_OBSERVER, LiveObserver
from gateway.lru import BoundedLRU

__all__ = [
    "MODELS",
    "ChangeEvent",
    "LiveFeed",
    "LiveLimitExceeded",
    "LiveSubscription",
    "event_key",
]

log = logging.getLogger(__name__)

MODELS = frozenset(model.name for model in CATALOG)
"""The catalog's model names: what a subscription may ask for."""
RECENT_EVENTS = 10_000
"""Event keys one feed remembers per integration, to drop repeated records before fan-out."""
SUBSCRIBER_RECENT_EVENTS = 256
"""Event keys one subscription remembers (bounded memory per subscriber)."""


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One changed record of ``model`` for ``integration_id``.

    ``record`` is the record as JSON: Kombo's snake_case keys and values as the list endpoint
    answered them, read and normalized by :func:`gateway.kombo.parsing.parse_record` (fields
    the catalog does not know dropped; date-times in the contract's form) and turned back into
    plain JSON (dicts, lists, strings, numbers, booleans, nulls). ``parse_record(CATALOG[model],
    record)`` gives the model's whole record again. Shared by every subscriber: do not mutate.
    """

    integration_id: str
    model: str
    record: dict[str, Any]
    event_key: str


class LiveLimitExceeded(Exception):
    """A subscription refused: ``scope`` is ``integration`` (too many for one integration),
    ``process`` (too many in this process) or ``shutdown`` (the process is draining)."""

    def __init__(self, message: str, scope: str) -> None:
        super().__init__(message)
        self.scope = scope


class LiveSubscription:
    """The changes of some models of one integration, as an async iterator of
    :class:`ChangeEvent`; iteration ends once it is closed (by :meth:`close`, by an overflow,
    or by the feed's shutdown)."""

    def __init__(
        self,
        feed: LiveFeed,
        integration_id: str,
        models: frozenset[str],
        queue_size: int,
    ) -> None:
        self.integration_id = integration_id
        self.models = models
        self.overflowed = False
        """True when it ended because its queue was full (a slow consumer)."""
        self.closed = False
        self._feed = feed
        self._queue_size = queue_size
        self._items: deque[ChangeEvent] = deque()
        self._wake = asyncio.Event()
        self._recent: deque[str] = deque()
        self._recent_set: set[str] = set()

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> ChangeEvent:
        while True:
            if self.closed:
                raise StopAsyncIteration
            if self._items:
                return self._items.popleft()
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        """End it: iteration stops (what is still queued is dropped); safe to call again."""
        if self.closed:
            return
        self.closed = True
        self._items.clear()
        self._wake.set()
        self._feed._remove(self)

    def offer(self, event: ChangeEvent) -> bool:
        """Queue ``event`` unless closed or already seen; a full queue ends the subscription
        (``overflowed``). True when queued."""
        if self.closed or event.event_key in self._recent_set:
            return False
        if len(self._items) >= self._queue_size:
            self.overflowed = True
            self._feed.observer.dropped("overflow", len(self._items) + 1)
            log.warning(
                "live subscription of %s ended: %d changes waiting, its queue is full (a slow "
                "consumer)",
                self.integration_id,
                len(self._items),
            )
            self.close()
            return False
        self._recent.append(event.event_key)
        self._recent_set.add(event.event_key)
        if len(self._recent) > SUBSCRIBER_RECENT_EVENTS:
            self._recent_set.discard(self._recent.popleft())
        self._items.append(event)
        self._wake.set()
        return True

    @property
    def pending(self) -> int:
        """Changes queued, not yet read."""
        return len(self._items)


class LiveFeed:
    """The one per-process live feed (see the module doc).

    ``kombo`` is the app's :class:`~gateway.kombo.client.KomboClient` (refreshes share its
    concurrency bound and retry policy); ``coordinator`` the cluster
    (:class:`~gateway.live.redis.RedisCoordinator` with Redis; in-process by default).
    """

    def __init__(
        self,
        kombo: Lister,
        *,
        coordinator: Coordinator | None = None,
        poll_seconds: float = 60.0,
        min_refresh_seconds: float = 2.0,
        max_subscriptions_per_integration: int = 1_000,
        max_subscriptions: int = 10_000,
        queue_size: int = 1_000,
        lease_seconds: float = 15.0,
        refresh_timeout: float = 60.0,
        observer: LiveObserver = NO_OBSERVER,
    ) -> None:
        self.observer = observer
        self.coordinator: Coordinator = coordinator or LocalCoordinator()
        self.policy = RefreshPolicy(
            poll_seconds=poll_seconds,
            min_refresh_seconds=min_refresh_seconds,
            lease_seconds=lease_seconds,
            refresh_timeout=refresh_timeout,
        )
        self.max_subscriptions_per_integration = max_subscriptions_per_integration
        self.max_subscriptions = max_subscriptions
        self.queue_size = queue_size
        self._kombo = kombo
        self._by_integration: dict[str, set[LiveSubscription]] = {}
        self._model_counts: dict[tuple[str, str], int] = {}
        self._refreshers: dict[tuple[str, str], Refresher] = {}
        self._recent: dict[str, BoundedLRU[str, bool]] = {}
        self._stopping: set[asyncio.Task[None]] = set()  # refreshers giving their lease back
        self._count = 0
        self._started = False
        self._closing = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Begin receiving messages (the lifespan's start)."""
        if not self._started:
            self._started = True
            await self.coordinator.start(self._on_message)

    def begin_drain(self) -> None:
        """SIGTERM: end every subscription and take no new ones (refreshers stop with them)."""
        self._closing = True
        for subscriptions in list(self._by_integration.values()):
            for subscription in list(subscriptions):
                subscription.close()

    async def aclose(self) -> None:
        """The lifespan's end: every subscription ended, every lease given back."""
        self.begin_drain()
        refreshers = list(self._refreshers.values())
        self._refreshers.clear()
        await asyncio.gather(
            *(r.stop() for r in refreshers), *self._stopping, return_exceptions=True
        )
        await self.coordinator.aclose()

    async def abandon(self) -> None:
        """Stop as a killed process would: tasks cancelled, no lease given back, no goodbye to
        Redis (tests of a lease handover)."""
        self._closing = True
        for refresher in list(self._refreshers.values()):
            refresher.abandon()
        self._refreshers.clear()  # (so that closing the subscriptions stops no refresher)
        for subscriptions in list(self._by_integration.values()):
            for subscription in list(subscriptions):
                subscription.close()
        await self.coordinator.aclose()

    # -- the API of transports and webhooks --------------------------------------------------

    def refresher(self, integration_id: str, model: str) -> Refresher | None:
        """The refresher of one pair in this process, while it has subscribers here (its
        ``holder``, ``refreshes`` and ``failures`` say what it does; tests, diagnostics)."""
        return self._refreshers.get((integration_id, model))

    @property
    def subscriptions(self) -> int:
        """Subscriptions open in this process."""
        return self._count

    def subscribe(self, integration_id: str, models: frozenset[str]) -> LiveSubscription:
        """A subscription to ``models`` (catalog names; empty: every model) of
        ``integration_id``. Raises :class:`LiveLimitExceeded` beyond the limits or while
        draining, :class:`ValueError` for a name that is no model's."""
        unknown = models - MODELS
        if unknown:
            raise ValueError(f"no such model: {', '.join(sorted(unknown))}")
        if self._closing:
            raise LiveLimitExceeded("the gateway is shutting down", "shutdown")
        if self._count >= self.max_subscriptions:
            raise LiveLimitExceeded(
                f"this gateway process has {self._count} live subscriptions, the most it takes",
                "process",
            )
        mine = self._by_integration.get(integration_id)
        if mine is not None and len(mine) >= self.max_subscriptions_per_integration:
            raise LiveLimitExceeded(
                f"the integration has {len(mine)} live subscriptions on this gateway process, "
                "the most it takes",
                "integration",
            )
        subscription = LiveSubscription(self, integration_id, models or MODELS, self.queue_size)
        if mine is None:
            mine = self._by_integration[integration_id] = set()
            self._recent[integration_id] = BoundedLRU(RECENT_EVENTS, RECENT_EVENTS)
            self.coordinator.watch(integration_id)
        mine.add(subscription)
        self._count += 1
        self.observer.subscribers(1)
        now = datetime.now(UTC)
        for model in subscription.models:
            key = (integration_id, model)
            self._model_counts[key] = self._model_counts.get(key, 0) + 1
            if key not in self._refreshers:
                refresher = Refresher(
                    integration_id,
                    model,
                    kombo=self._kombo,
                    coordinator=self.coordinator,
                    policy=self.policy,
                    since=now,
                    observer=self.observer,
                )
                self._refreshers[key] = refresher
                refresher.start()
        return subscription

    async def first_delivery(self, event_id: str) -> bool:
        """True the first time a webhook event id is seen (cluster-wide with Redis)."""
        return await self.coordinator.claim_event(event_id)

    async def hint(
        self, integration_id: str, models: frozenset[str], trigger: str = "webhook"
    ) -> None:
        """Ask for a refresh of these models of ``integration_id`` wherever they have
        subscribers (rate-limited per (integration, model)); returns once the hint is sent, not
        when a refresh is done."""
        wanted = sorted(models & MODELS)
        if not wanted:
            return
        message = orjson.dumps({"hint": wanted, "trigger": trigger})
        await self.coordinator.publish(integration_id, message)

    # -- internals ---------------------------------------------------------------------------

    def _remove(self, subscription: LiveSubscription) -> None:
        mine = self._by_integration.get(subscription.integration_id)
        if mine is None or subscription not in mine:
            return
        mine.discard(subscription)
        self._count -= 1
        self.observer.subscribers(-1)
        integration_id = subscription.integration_id
        for model in subscription.models:
            key = (integration_id, model)
            left = self._model_counts.get(key, 0) - 1
            if left > 0:
                self._model_counts[key] = left
                continue
            self._model_counts.pop(key, None)
            refresher = self._refreshers.pop(key, None)
            if refresher is not None:
                task = asyncio.get_running_loop().create_task(refresher.stop())
                self._stopping.add(task)
                task.add_done_callback(self._stopping.discard)
        if not mine:
            del self._by_integration[integration_id]
            self._recent.pop(integration_id, None)
            self.coordinator.unwatch(integration_id)

    def _on_message(self, integration_id: str, message: bytes) -> None:
        try:
            body = orjson.loads(message)
        except orjson.JSONDecodeError:
            log.warning("ignoring an unreadable live message")
            return
        if not isinstance(body, dict):
            return
        if "hint" in body:
            trigger = "poll" if body.get("trigger") == "poll" else "webhook"
            for model in body.get("hint") or ():
                refresher = self._refreshers.get((integration_id, model))
                if refresher is not None:
                    refresher.trigger(trigger)
        elif "records" in body:
            self._deliver(integration_id, body.get("model"), body.get("records") or ())

    def _deliver(self, integration_id: str, model: Any, records: Iterable[Any]) -> None:
        subscriptions = self._by_integration.get(integration_id)
        recent = self._recent.get(integration_id)
        if not subscriptions or recent is None or model not in MODELS:
            return
        wanted = [s for s in subscriptions if model in s.models]
        if not wanted:
            return
        delivered = 0
        for record in records:
            if not isinstance(record, dict) or "id" not in record or "changed_at" not in record:
                continue
            key = event_key(model, record)
            if recent.get(key) is not None:
                continue
            recent.put(key, True, 1)
            event = ChangeEvent(integration_id, model, record, key)
            for subscription in wanted:
                if subscription.offer(event):
                    delivered += 1
        if delivered:
            self.observer.delivered(delivered)
