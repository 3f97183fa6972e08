"""What resolvers see as ``info.context``: one GraphQL request's upstream access and its keys.

One :class:`GatewayContext` per GraphQL request, built by the app's context getter. The
resolvers reach Kombo only through :attr:`GatewayContext.upstream` (:mod:`gateway.upstream`);
the rest is what the GraphQL layer itself needs: the cursor key, the request id its errors
carry, and the request's share of the memory budget (README "Layout").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gateway.admission import AdmissionTicket
from gateway.kombo import Deadline
from gateway.live import LiveFeed, LiveSubscription
from gateway.upstream import UpstreamAccess

__all__ = ["GatewayContext"]


@dataclass
class GatewayContext:
    """What resolvers see as ``info.context``."""

    upstream: UpstreamAccess
    """Kombo, as this request may ask it: loaders, page memo, deadline, upstream-call budget."""
    cursor_key: bytes
    request_id: str
    admission: AdmissionTicket | None = field(default=None, repr=False)
    """This request's share of the process's memory budget (``GATEWAY_MAX_INFLIGHT_COST``):
    reserved as execution starts, released by the endpoint once the response is sent
    (:meth:`response_sent`). None: not bounded (unit tests)."""
    raw_records: bool = False
    """Whether connections may hand their records to the executor as Kombo's decoded JSON (a
    page's ``items``, :class:`~gateway.kombo.records.Page`): set by the fast path's executor,
    which completes them (:mod:`gateway.execution.fastpath`). Otherwise parsed records."""
    live: LiveFeed | None = field(default=None, repr=False)
    """The process's change feed, for ``Subscription.changes``; None: no live changes."""
    renew_upstream: Callable[[], UpstreamAccess] | None = field(default=None, repr=False)
    """For subscriptions: a fresh upstream access (budget, deadline, loaders) for each event."""
    live_subscription: LiveSubscription | None = field(default=None, repr=False)
    """The feed subscription the operation holds, once it has subscribed (the transport reads
    ``overflowed`` from it when the stream ends)."""

    @property
    def deadline(self) -> Deadline:
        """The request's deadline: its upstream calls end by it, and its wait for the memory
        budget too."""
        return self.upstream.deadline

    def next_event(self) -> None:
        """A subscription's next event is about to execute: whatever the previous one left
        running ends, and the event gets an upstream access of its own (new loaders, budget and
        deadline), so nothing read for one event is reused for another."""
        self.upstream.cancel_pending()
        if self.renew_upstream is not None:
            self.upstream = self.renew_upstream()

    def cancel_pending(self) -> None:
        """End whatever upstream work of this request is still running: its answer is sent."""
        self.upstream.cancel_pending()

    def response_sent(self) -> None:
        """The response has been sent, or will never be (an error, a cancelled request): give
        back this request's memory reservation. Safe to call more than once."""
        if self.admission is not None:
            self.admission.release()
