"""Request coalescing: identical upstream requests in flight at once are made once.

The first caller starts the call as its own task; callers asking for the same key while it runs
wait for that task and share its outcome, result or error. Nothing is kept once it completes:
this is not a cache, and the next identical request goes upstream again.

Each waiter stops waiting at its own deadline (then it gets :class:`KomboDeadlineExceeded`) or
when it is cancelled; neither touches the shared call, which the others still await. When the
last waiter leaves before the call completes, nobody wants the answer any more and the call is
cancelled, so a hung upstream request never outlives the requests that wanted it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from gateway.kombo.deadline import Deadline
from gateway.kombo.errors import KomboDeadlineExceeded

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Flight:
    """One shared call in progress, and the deadlines of everyone waiting for it."""

    def __init__(self) -> None:
        self._deadlines: list[Deadline | None] = []

    @property
    def waiters(self) -> int:
        return len(self._deadlines)

    def remaining(self) -> float | None:
        """Seconds the most patient waiter still gives the call; ``None`` when one has no
        deadline. The call may plan waits (retry backoff) up to this, no further."""
        if not self._deadlines or any(d is None for d in self._deadlines):
            return None
        return max(d.remaining() for d in self._deadlines if d is not None)

    def _join(self, deadline: Deadline | None) -> None:
        self._deadlines.append(deadline)

    def _leave(self, deadline: Deadline | None) -> None:
        self._deadlines.remove(deadline)


class Coalescer(Generic[K, T]):
    """Shares the outcome of identical calls made while one of them is in flight."""

    def __init__(self) -> None:
        self._flights: dict[K, tuple[Flight, asyncio.Task[T]]] = {}

    def in_flight(self) -> int:
        """Distinct calls running now."""
        return len(self._flights)

    async def run(
        self,
        key: K,
        call: Callable[[Flight], Awaitable[T]],
        deadline: Deadline | None = None,
    ) -> T:
        """``await call(flight)``, or join the identical call already running under ``key``.

        Raises what the call raises, or :class:`KomboDeadlineExceeded` when ``deadline`` passes
        first (also when it has passed already: then nothing is started).
        """
        if deadline is not None and deadline.expired():
            raise _deadline_exceeded(deadline)
        running = self._flights.get(key)
        if running is None:
            flight = Flight()
            task = asyncio.ensure_future(call(flight))
            running = self._flights[key] = (flight, task)
            task.add_done_callback(lambda done: self._forget(key, done))
        flight, task = running
        flight._join(deadline)
        try:
            if deadline is None:
                return await asyncio.shield(task)
            timeout = asyncio.timeout(deadline.remaining())
            try:
                async with timeout:
                    return await asyncio.shield(task)
            except TimeoutError:
                if timeout.expired():
                    raise _deadline_exceeded(deadline) from None
                raise
        finally:
            flight._leave(deadline)
            if flight.waiters == 0 and not task.done():
                task.cancel()
                self._forget(key, task)

    def _forget(self, key: K, task: asyncio.Task[T]) -> None:
        running = self._flights.get(key)
        if running is not None and running[1] is task:
            del self._flights[key]
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: an error nobody awaited any more is not "lost"


def _deadline_exceeded(deadline: Deadline) -> KomboDeadlineExceeded:
    return KomboDeadlineExceeded(f"{deadline.describe()} passed before Kombo answered")
