"""At most N upstream requests in flight per integration.

One tenant's burst queues behind its own bound instead of using up the account's rate limit
(Kombo limits per API key, and the gateway holds one key for every integration). The registry
holds a semaphore only while some request of that integration holds or awaits it, so integration
ids sent by clients (headers, tokens) cannot grow memory: its size is bounded by the requests in
flight, not by the ids ever seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    semaphore: asyncio.Semaphore
    users: int = 0  # holding or awaiting a slot
    holding: int = 0


class InFlightLimiter:
    """A semaphore of ``per_integration`` slots for each integration with requests in flight."""

    def __init__(self, per_integration: int) -> None:
        if per_integration < 1:
            raise ValueError("per_integration must be at least 1")
        self.per_integration = per_integration
        self._entries: dict[str, _Entry] = {}

    @contextlib.asynccontextmanager
    async def slot(self, integration_id: str) -> AsyncIterator[None]:
        """Hold one of the integration's slots for the body of the ``async with``.

        Waits (cancellably: bound it with the caller's deadline) while all slots are taken.
        """
        entry = self._entries.get(integration_id)
        if entry is None:
            entry = self._entries[integration_id] = _Entry(asyncio.Semaphore(self.per_integration))
        entry.users += 1
        try:
            async with entry.semaphore:
                entry.holding += 1
                try:
                    yield
                finally:
                    entry.holding -= 1
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[integration_id]

    def in_flight(self, integration_id: str) -> int:
        """Requests of the integration holding a slot now."""
        entry = self._entries.get(integration_id)
        return 0 if entry is None else entry.holding

    def tracked(self) -> int:
        """Integrations with a request holding or awaiting a slot (the registry's size)."""
        return len(self._entries)
