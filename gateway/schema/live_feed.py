"""What the subscription resolver needs of the change feed: the LiveFeed API of issue 13.

The real feed is :class:`gateway.live.LiveFeed` (webhook hints, refreshers, Redis fan-out); the
schema only subscribes to it and reads :class:`ChangeEvent` s, so it depends on these protocols,
not on the feed's machinery (tests give an in-memory feed of their own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

__all__ = ["ChangeEvent", "LiveFeed", "LiveSubscription"]


class ChangeEvent(Protocol):
    """One changed record of one integration, as Kombo's list endpoint returned it."""

    @property
    def integration_id(self) -> str: ...

    @property
    def model(self) -> str:
        """The catalog model name: ``"Interview"``, ``"ApplicationStage"``…"""
        ...

    @property
    def record(self) -> Mapping[str, Any]:
        """The raw Kombo JSON object of the record (the subscriber parses it)."""
        ...


class LiveSubscription(Protocol):
    """One subscriber's bounded queue of events; iteration ends when it is closed."""

    overflowed: bool
    """True when it ended because its queue was full (a slow consumer)."""

    def __aiter__(self) -> AsyncIterator[ChangeEvent]: ...

    def close(self) -> None: ...


class LiveFeed(Protocol):
    """The process's change feed."""

    def subscribe(self, integration_id: str, models: frozenset[str]) -> LiveSubscription:
        """A new subscription to ``models`` of ``integration_id``; raises when a limit (per
        integration, per process) is reached."""
        ...
