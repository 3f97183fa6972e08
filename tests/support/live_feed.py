"""An in-memory change feed with the LiveFeed API (gateway.live), for the transports' tests.

The tests publish raw Kombo records to it directly (in-process) or through the test gateway's
``POST /__test__/live/publish`` (:mod:`tests.support.live_gateway`), so what reaches the
subscribers is decided by the test, not by a refresher's timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    integration_id: str
    model: str
    record: Mapping[str, Any]
    event_key: str = ""


class LimitReached(Exception):
    """The feed's own limit (LiveLimitExceeded in gateway.live)."""


@dataclass(eq=False)
class Subscription:
    feed: MemoryFeed
    integration_id: str
    models: frozenset[str]
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(8))
    overflowed: bool = False
    closed: bool = False

    def offer(self, event: Event) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.feed.subscriptions.discard(self)
        # Wake the reader: it ends (StopAsyncIteration) once the queued events are read.
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        event = await self.queue.get()
        if event is None:
            raise StopAsyncIteration
        return event


@dataclass(eq=False)
class MemoryFeed:
    """Every subscription of the process; ``queue_size`` events each before overflowing."""

    queue_size: int = 8
    max_subscriptions: int = 1000
    subscriptions: set[Subscription] = field(default_factory=set)

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.close()

    def subscribe(self, integration_id: str, models: frozenset[str]) -> Subscription:
        if len(self.subscriptions) >= self.max_subscriptions:
            raise LimitReached(
                f"This gateway process serves {self.max_subscriptions} subscriptions already."
            )
        subscription = Subscription(
            self, integration_id, models, asyncio.Queue(self.queue_size + 1)
        )
        self.subscriptions.add(subscription)
        return subscription

    async def hint(self, integration_id: str, models: frozenset[str], trigger: str = "") -> None:
        return None

    def publish(self, integration_id: str, model: str, record: Mapping[str, Any]) -> int:
        """Give the record to every subscriber of its integration and model; how many."""
        event = Event(integration_id, model, record, f"{model}:{record.get('id')}")
        reached = 0
        for subscription in list(self.subscriptions):
            if subscription.integration_id == integration_id and model in subscription.models:
                subscription.offer(event)
                reached += 1
        return reached

    def subscriber_count(self) -> int:
        return len(self.subscriptions)
