"""The refresher of one (integration, model): what changed since the last look, fetched once.

While an (integration, model) has subscribers in a process, a :class:`Refresher` runs there. Of
all replicas' refreshers of one pair, the one holding its **lease** (``Coordinator.hold_lease``,
renewed every third of ``lease_seconds``; a dead holder's lease expires, and another takes it at
its next try) is the one that refreshes; the others only wait for the lease.

A refresh fetches ``GET <model's endpoint>?updated_after=<watermark>&include_deleted=true``
page by page (``page_size`` 250) through the app's
:class:`~gateway.kombo.client.KomboClient`, so it shares the queries' per-integration
concurrency bound, retry policy and upstream metrics (not the response cache: a cached page
would hide recent changes). It publishes each page's records on the integration's bus, each
record once (an event key seen in the refresher's last :data:`PUBLISHED_MEMORY` is not
published again), and then moves the **watermark** to the instant the refresh started (kept in
the coordinator, Redis with ``GATEWAY_REDIS_URL``, so a new holder continues from it). The first
watermark is the time of the pair's first subscription. An upstream failure is logged and
counted; the watermark stays, so the next refresh fetches the same span again.

Triggers: :meth:`Refresher.trigger` (a webhook's hint, or any hint), and a poll every
``poll_seconds`` since the last refresh. Never two refreshes of the pair at once (one task does
them in turn, and one lease holder cluster-wide); never two starts within
``min_refresh_seconds``: hints arriving meanwhile, or during a refresh, fold into exactly one
follow-up refresh. A refresher that is not the holder ignores a webhook's hint (the holder got
it too), but remembers it: when it takes the lease within :data:`MISSED_HINT_LEASES` lease lives
of that hint, it refreshes at once, since the holder it replaces may have died before acting on
it (without this, a webhook received while a dead replica's lease runs out waits for the next
poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from gateway.kombo.catalog import CATALOG
from gateway.kombo.deadline import Deadline
from gateway.kombo.errors import KomboError
from gateway.kombo.query import MAX_PAGE_SIZE, ListQuery, format_updated_after
from gateway.kombo.records import Page
from gateway.live.coordination import Coordinator
from gateway.live.observer import NO_OBSERVER, LiveObserver
from gateway.lru import BoundedLRU

__all__ = [
    "MISSED_HINT_LEASES",
    "PUBLISHED_MEMORY",
    "Lister",
    "RefreshPolicy",
    "Refresher",
    "event_key",
    "refresh_key",
]

log = logging.getLogger(__name__)

PUBLISHED_MEMORY = 10_000
"""Event keys one refresher remembers having published."""
MISSED_HINT_LEASES = 2.0
"""A webhook's hint ignored by a refresher not holding the lease is acted on when that refresher
takes the lease within this many lease lives of it: a dead holder's lease expires at most one
life after the hint, and a survivor takes it a third of a life later at most."""


class Lister(Protocol):
    """What a refresh needs of the Kombo client (:meth:`KomboClient.list_records`)."""

    async def list_records(
        self,
        integration_id: str,
        query: ListQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        deadline: Deadline | None = None,
        use_cache: bool = True,
    ) -> Page: ...


@dataclass(frozen=True)
class RefreshPolicy:
    """When refreshes run (seconds): ``poll_seconds`` after the last one at most,
    ``min_refresh_seconds`` after the last start at least; ``lease_seconds`` a lease's life
    (renewed every third of it); ``refresh_timeout`` the whole refresh's deadline."""

    poll_seconds: float = 60.0
    min_refresh_seconds: float = 2.0
    lease_seconds: float = 15.0
    refresh_timeout: float = 60.0
    page_size: int = MAX_PAGE_SIZE

    @property
    def watermark_seconds(self) -> float:
        """How long a watermark is kept after its last refresh: a pair nobody refreshed for that
        long starts again from its next first subscription."""
        return max(10 * self.poll_seconds, 3600.0)


def refresh_key(integration_id: str, model: str) -> str:
    """The coordinator's name of one (integration, model) pair (it digests it for Redis)."""
    return json.dumps([integration_id, model], separators=(",", ":"))


def event_key(model: str, record: Any) -> str:
    """``model:id:<digest of the record as read>``: equal for the same version of a record (the
    de-duplication key of :class:`~gateway.live.hub.ChangeEvent`). The whole record, not its
    ``changed_at``: Kombo's ``updated_after`` also finds records whose *nested* data changed
    (an interview whose application moved stage), with their own ``changed_at`` unchanged, and
    that change is news to a subscriber."""
    content = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return f"{model}:{record['id']}:{hashlib.blake2b(content, digest_size=12).hexdigest()}"


class Refresher:
    """Refreshes one (integration, model) while it holds the pair's lease (module doc).

    ``since``: the time of the pair's first subscription here (the first watermark).
    """

    def __init__(
        self,
        integration_id: str,
        model: str,
        *,
        kombo: Lister,
        coordinator: Coordinator,
        policy: RefreshPolicy,
        since: datetime,
        observer: LiveObserver = NO_OBSERVER,
    ) -> None:
        self._observer = observer
        self.integration_id = integration_id
        self.model = model
        self.key = refresh_key(integration_id, model)
        self.token = secrets.token_hex(16)
        self.holder = False
        """Whether this refresher holds the pair's lease (as of its last try)."""
        self.refreshes: dict[str, int] = {}
        """Refreshes done, by trigger (tests and logs)."""
        self.failures = 0
        self.running = False
        """Whether a refresh is under way."""
        self._kombo = kombo
        self._coordinator = coordinator
        self._policy = policy
        self._since = format_updated_after(since)
        self._query_model = CATALOG[model]
        self._wake = asyncio.Event()
        self._trigger: str | None = None
        self._missed_at: float | None = None  # a webhook's hint ignored while not the holder
        self._published: BoundedLRU[str, bool] = BoundedLRU(PUBLISHED_MEMORY, PUBLISHED_MEMORY)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._keep_lease(), name=f"live lease {self.model}"),
            asyncio.create_task(self._refresh_loop(), name=f"live refresh {self.model}"),
        ]

    def trigger(self, kind: str) -> None:
        """Ask for a refresh (``webhook`` or ``poll``): done at once, or folded into the one
        follow-up when a refresh runs or the last started less than ``min_refresh_seconds`` ago.
        Only the lease holder refreshes."""
        if self._trigger is None or kind == "webhook":
            self._trigger = kind
        self._wake.set()

    async def stop(self) -> None:
        """Cancel the loops and give the lease back."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.holder:
            self.holder = False
            try:
                await self._coordinator.release_lease(self.key, self.token)
            except Exception as exc:
                log.warning("could not give back the live lease of %s: %s", self.model, exc)

    def abandon(self) -> None:
        """Cancel the loops and keep the lease (a killed process's; tests)."""
        self._stopped = True
        for task in self._tasks:
            task.cancel()

    async def _keep_lease(self) -> None:
        policy = self._policy
        while True:
            try:
                held = await self._coordinator.hold_lease(
                    self.key, self.token, policy.lease_seconds
                )
                if held and not self.holder:
                    await self._coordinator.set_watermark(
                        self.key, self._since, policy.watermark_seconds, only_new=True
                    )
            except Exception as exc:  # a coordinator outage: not the holder until it is back
                log.warning("live lease of %s: %s", self.model, exc)
                held = False
            if held != self.holder:
                log.info(
                    "live refresher of %s %s the lease (integration %s)",
                    self.model,
                    "took" if held else "lost",
                    self.integration_id,
                )
            taken = held and not self.holder
            self.holder = held
            if held:
                missed, self._missed_at = self._missed_at, None
                recent = MISSED_HINT_LEASES * policy.lease_seconds
                if taken and missed is not None and time.monotonic() - missed <= recent:
                    # The holder this one replaces may have died before acting on that hint.
                    self.trigger("webhook")
            await asyncio.sleep(policy.lease_seconds / 3)

    async def _refresh_loop(self) -> None:
        policy = self._policy
        next_poll = time.monotonic() + policy.poll_seconds
        last_start: float | None = None
        while True:
            timeout = next_poll - time.monotonic()
            if timeout > 0 and not self._wake.is_set():
                # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancellation that
                # arrives as the event is set (the refresher then never stops).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._wake.wait()
            if not self._wake.is_set() and time.monotonic() < next_poll:
                continue
            if last_start is not None:
                wait = last_start + policy.min_refresh_seconds - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # hints meanwhile fold into this refresh
            trigger = self._trigger or "poll"
            self._wake.clear()
            self._trigger = None
            next_poll = time.monotonic() + policy.poll_seconds
            if not self.holder:
                if trigger == "webhook":
                    self._missed_at = time.monotonic()
                continue
            last_start = time.monotonic()
            await self.refresh(trigger)

    async def refresh(self, trigger: str) -> bool:
        """One refresh now (module doc); True when it reached the last page."""
        started = format_updated_after(datetime.now(UTC))
        self.refreshes[trigger] = self.refreshes.get(trigger, 0) + 1
        self.running = True
        try:
            return await self._refresh(trigger, started)
        finally:
            self.running = False

    async def _refresh(self, trigger: str, started: str) -> bool:
        calls = published = 0
        try:
            mark = await self._coordinator.watermark(self.key) or self._since
            after = datetime.fromisoformat(mark)
            query = ListQuery.of(
                self._query_model, {"updated_after": after, "include_deleted": True}
            )
            deadline = Deadline.after(self._policy.refresh_timeout)
            cursor: str | None = None
            while True:
                page = await self._kombo.list_records(
                    self.integration_id,
                    query,
                    page_size=self._policy.page_size,
                    cursor=cursor,
                    deadline=deadline,
                    use_cache=False,
                )
                calls += 1
                fresh = []
                for record in page.results:
                    key = event_key(self.model, record)
                    if self._published.get(key) is None:
                        self._published.put(key, True, 1)
                        fresh.append(record)
                if fresh:
                    message = orjson.dumps({"model": self.model, "records": fresh})
                    await self._coordinator.publish(self.integration_id, message)
                    published += len(fresh)
                    self._observer.published(self.model, len(fresh))
                cursor = page.next
                if cursor is None:
                    break
            await self._coordinator.set_watermark(
                self.key, started, self._policy.watermark_seconds, only_new=False
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # KomboError (logged by the client per attempt too), or a coordinator outage: the
            # watermark stays, so the next refresh asks for the same span again.
            self.failures += 1
            self._observer.refreshed(trigger, ok=False)
            level = logging.WARNING if isinstance(exc, KomboError) else logging.ERROR
            log.log(
                level,
                "live refresh of %s (integration %s, %s) failed after %d upstream call(s): %s",
                self.model,
                self.integration_id,
                trigger,
                calls,
                f"{type(exc).__name__}: {exc}",
            )
            return False
        self._observer.refreshed(trigger, ok=True)
        log.info(
            "live refresh of %s (integration %s, %s): %d upstream call(s), %d record(s) published",
            self.model,
            self.integration_id,
            trigger,
            calls,
            published,
        )
        return True
