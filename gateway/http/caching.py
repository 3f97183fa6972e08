"""HTTP caching of GraphQL answers (README "HTTP caching"): what `Cache-Control` and `Vary` say.

Every answer of `/graphql` carries both. Tenant data is never `public`: which integration an
answer holds is chosen by request headers (`Authorization`, `X-Integration-Id`) that a shared
cache does not key on unless told to, and nothing but the gateway can check a token. So:

- `no-store` for a POST, for every error answer (any status but 200, or a body with `errors`,
  partial results included: they may be a passing upstream failure), for an answer to a request
  bearing a credential (`Authorization` or a cookie: whoever holds a token, its answer is
  theirs alone, and may outlive it), for GraphiQL's page, and for every GET unless
  `GATEWAY_HTTP_MAX_AGE` is set;
- `private, max-age=<GATEWAY_HTTP_MAX_AGE>` for a successful GET otherwise: the browser that
  asked may reuse it, no shared cache (CDN, proxy) may keep it;
- `Vary: Accept, Origin, Authorization, X-Integration-Id`: the media type, the CORS headers and
  the tenant all follow from those request headers, so even a private cache keys on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from gateway.http.responses import GraphQLResponse
from gateway.http.vary import merge_vary

__all__ = ["NO_STORE", "VARY", "HttpCaching"]

NO_STORE = "no-store"
VARY = ("Accept", "Origin", "Authorization", "X-Integration-Id")
"""The request headers every GraphQL answer depends on."""
CREDENTIALS = ("authorization", "cookie")
"""Request headers that make an answer someone's own: it is never stored."""


@dataclass(frozen=True)
class HttpCaching:
    """`Cache-Control` and `Vary` of the answers of `/graphql`; `max_age` is
    `GATEWAY_HTTP_MAX_AGE` (None: GET answers are not stored either)."""

    max_age: int | None = None

    def cache_control(self, request: Request, response: Response) -> str:
        """`private, max-age=N` for a complete answer to a GET without credentials when
        `max_age` is set; `no-store` for everything else."""
        storable = (
            self.max_age is not None
            and request.method == "GET"
            and response.status_code == 200
            and isinstance(response, GraphQLResponse)
            and response.complete
            and not any(name in request.headers for name in CREDENTIALS)
        )
        return f"private, max-age={self.max_age}" if storable else NO_STORE

    def stamp(self, request: Request, response: Response) -> None:
        """Set `response`'s `Cache-Control`, and merge :data:`VARY` into its `Vary`."""
        response.headers["Cache-Control"] = self.cache_control(request, response)
        merge_vary(response.headers, *VARY)
