"""Upstream access: how the schema's resolvers reach Kombo (README "Layout").

Data flows one way, schema → upstream → :mod:`gateway.kombo`: this package knows nothing of
GraphQL. One :class:`UpstreamAccess` per request holds the loaders, the page memo and the
request's upstream work (cancelled once the answer is sent); :class:`UpstreamBudget` bounds its
upstream calls; :func:`gateway_error` turns Kombo's failures into the gateway's errors.
"""

from gateway.upstream.access import DEFAULT_REQUEST_TIMEOUT, UpstreamAccess
from gateway.upstream.budget import UpstreamBudget
from gateway.upstream.errors import gateway_error

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "UpstreamAccess",
    "UpstreamBudget",
    "gateway_error",
]
