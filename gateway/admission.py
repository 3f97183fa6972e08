"""Memory admission: the work one process takes on at once is bounded (README "Sizing memory").

A GraphQL request's memory grows with the interviews it fetches: measured on the all-fields
selection (``python -m bench.hostile.memory``), ~7.2 KB per interview at its peak, of which
~5.4 KB is the result tree (the dicts graphql-core's completion builds), ~1.4 KB its JSON
encoding and ~1 KB the parsed upstream pages. With no bound, 16 concurrent requests of 4,810
interviews each (20 aliased pages of 250, within every query limit) took a worker from 107 to
598 MiB, past the Kubernetes manifest's 256 Mi.

So each request, once its cost estimate is known (as execution starts: ``gateway.schema.limits``),
reserves that many interviews (at least :data:`MIN_WEIGHT`, so cheap requests still count) from
a per-process budget, ``GATEWAY_MAX_INFLIGHT_COST``, and gives them back once its response has
been sent, or it failed or was cancelled. Past the budget, requests wait in strict FIFO order:
a big request at the head is not overtaken by a stream of small ones. One that is still waiting
at its deadline (``GATEWAY_REQUEST_TIMEOUT``) is answered 503 with ``Retry-After`` and
``UPSTREAM_UNAVAILABLE`` (:class:`~gateway.errors.GatewayAtCapacity`). The budget is at least
``GATEWAY_MAX_COST`` (settings refuse less), so every request the limits allow can be admitted.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from gateway.errors import GatewayAtCapacity

__all__ = [
    "MIN_WEIGHT",
    "AdmissionTicket",
    "MemoryAdmission",
]

MIN_WEIGHT = 10
"""What a request costs at least, in interviews: one that fetches none (``__typename``,
introspection: ~100 KB of answer for GraphiQL's query, about 10 interviews' worth) still holds
memory while it runs and is sent."""


@dataclass(slots=True)
class _Waiter:
    weight: int
    granted: asyncio.Future[None]


class MemoryAdmission:
    """A per-process budget of interviews in flight, handed out in FIFO order."""

    def __init__(self, budget: int, min_weight: int = MIN_WEIGHT) -> None:
        if budget < 1 or min_weight < 1:
            raise ValueError("the budget and the minimum weight are at least 1")
        self.budget = budget
        self.min_weight = min_weight
        self.in_use = 0
        self._waiters: deque[_Waiter] = deque()

    @property
    def waiting(self) -> int:
        """Requests queued for admission now."""
        return len(self._waiters)

    def weight(self, nodes: int) -> int:
        """What a request of ``nodes`` estimated interviews reserves: at least ``min_weight``,
        at most the whole budget (one that large runs alone)."""
        return min(self.budget, max(nodes, self.min_weight))

    def ticket(self) -> AdmissionTicket:
        """A request's own handle on this budget (it holds at most one reservation)."""
        return AdmissionTicket(self)

    async def acquire(self, weight: int, timeout: float) -> bool:
        """Reserve ``weight`` (at most the budget), waiting at most ``timeout`` seconds behind
        the requests queued before; False when the time ran out first. Cancelled while
        waiting, nothing stays reserved."""
        weight = min(weight, self.budget)
        if not self._waiters and self.in_use + weight <= self.budget:
            self.in_use += weight
            return True
        if timeout <= 0:
            return False
        waiter = _Waiter(weight, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                await waiter.granted
        except BaseException as exc:
            granted = waiter.granted.done() and not waiter.granted.cancelled()
            if granted:
                # Granted in the same instant the wait ended: give it back.
                self.release(weight)
            else:
                self._waiters.remove(waiter)
                self._wake()  # the head may have changed: those behind may fit now
            if isinstance(exc, TimeoutError):
                return False
            raise
        return True

    def release(self, weight: int) -> None:
        """Give back what :meth:`acquire` reserved, and admit whoever fits now, in order."""
        self.in_use -= min(weight, self.budget)
        if self.in_use < 0:
            raise RuntimeError("released more than was reserved")
        self._wake()

    def _wake(self) -> None:
        while self._waiters:
            head = self._waiters[0]
            if head.granted.done():  # its task was cancelled: it removes itself
                self._waiters.popleft()
                continue
            if self.in_use + head.weight > self.budget:
                return
            self._waiters.popleft()
            self.in_use += head.weight
            head.granted.set_result(None)


class AdmissionTicket:
    """One request's reservation: :meth:`reserve` once execution may start, :meth:`release`
    once the response is sent (the endpoint calls it in any case; releasing twice, or without
    a reservation, does nothing)."""

    def __init__(self, admission: MemoryAdmission) -> None:
        self.admission = admission
        self.reserved = 0

    async def reserve(self, nodes: int, timeout: float) -> None:
        """Reserve the weight of ``nodes`` interviews; :class:`GatewayAtCapacity` when
        ``timeout`` seconds pass first."""
        if self.reserved:
            raise RuntimeError("this request already holds a reservation")
        weight = self.admission.weight(nodes)
        if not await self.admission.acquire(weight, timeout):
            raise GatewayAtCapacity(round(max(timeout, 0), 1), retry_after(timeout))
        self.reserved = weight

    def release(self) -> None:
        reserved, self.reserved = self.reserved, 0
        if reserved:
            self.admission.release(reserved)


def retry_after(timeout: float) -> int:
    """Seconds a refused client should wait: the queue was full for a whole deadline, so not
    less than 1 s, and about half the deadline (the queue drains as answers are sent)."""
    return max(1, round(timeout / 2))
