"""The upstream calls one GraphQL request may make: the run-time query limit (README "Limits").

The other query limits refuse a request before it runs (:mod:`gateway.schema.limits`); this one
is enforced while it runs, by the request's upstream access, since it catches what no estimate
sees in advance (stitching pages after a mid-page cursor).
"""

from __future__ import annotations

from gateway.config import QueryLimits
from gateway.errors import QueryTooComplex

__all__ = ["UpstreamBudget"]


class UpstreamBudget:
    """The upstream calls one GraphQL request may still make (``GATEWAY_UPSTREAM_BUDGET``).

    The request's upstream access hands :meth:`spend` to the Kombo client (``on_upstream_call``),
    which calls it once per page or id batch it is about to ask of Kombo: a page the request
    already has (memoized) or the response cache answers spends nothing. Past the budget the
    call is not made and the field that needed it fails with ``QUERY_TOO_COMPLEX``, while the
    rest of the response stands.
    """

    def __init__(self, limit: int = QueryLimits.upstream_budget) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self) -> None:
        """Count one upstream call, or raise :class:`QueryTooComplex` when none is left."""
        if self.spent >= self.limit:
            raise QueryTooComplex(
                f"upstream-call budget of {self.limit} exceeded "
                f"({QueryLimits.VARIABLES['upstream_budget']}): this field needed one more call"
            )
        self.spent += 1

    def __repr__(self) -> str:
        return f"UpstreamBudget(spent={self.spent}, limit={self.limit})"
