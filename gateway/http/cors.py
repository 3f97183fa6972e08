"""Browsers: CORS (README "Browsers: CORS"), for the origins of `GATEWAY_CORS_ORIGINS`.

A preflight from an allowed origin is accepted for `GET`/`POST` with the gateway's own request
headers, the headers frontend tooling adds (:data:`TOOLING_HEADERS`: OpenTelemetry's and
Sentry's trace context, Apollo Client's) and those of `GATEWAY_CORS_HEADERS`, names compared
case-insensitively, and is cached by the browser for :data:`PREFLIGHT_MAX_AGE` seconds. Any other
preflight is a 400 whose text says what was refused, and carries no `Access-Control-*` header at
all: a disallowed origin learns nothing. Answers to allowed origins are readable by them (401s
included), with `X-Request-Id` exposed; credentials (cookies) are never allowed.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.http.vary import merge_vary

__all__ = [
    "ALLOWED_METHODS",
    "CORS",
    "GATEWAY_HEADERS",
    "PREFLIGHT_MAX_AGE",
    "TOOLING_HEADERS",
]

ALLOWED_METHODS = ("GET", "POST")
GATEWAY_HEADERS = ("content-type", "authorization", "x-integration-id", "x-request-id")
"""The request headers the gateway itself reads (and `Accept`, safelisted anyway)."""
SAFELISTED_HEADERS = ("accept", "accept-language", "content-language")
TOOLING_HEADERS = (
    # W3C trace context and baggage: OpenTelemetry's browser fetch instrumentation, Sentry.
    "traceparent",
    "tracestate",
    "baggage",
    "sentry-trace",
    # Apollo Client: `new ApolloClient({name, version})`, its CSRF-prevention header, and the
    # operation name some links add.
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
"""Request headers common frontend tooling adds, accepted from every allowed origin."""
EXPOSED_HEADERS = ("X-Request-Id",)
PREFLIGHT_MAX_AGE = 7200
"""Seconds a browser may reuse a preflight (`Access-Control-Max-Age`): 2 hours, Chromium's cap
(Firefox caps at 24 hours, Safari at 10 minutes). A preflight is cached per origin *and URL*:
every distinct GET URL (each page's variables are in it) needs its own, while POSTs all share
`/graphql`'s (README "Browsers: CORS")."""
_PREFLIGHT_VARY = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"


class CORS:
    """ASGI middleware answering preflights and marking answers readable by allowed origins.

    `origins` are exact origins, or `("*",)` for any (answered as `*`, never with
    credentials); `extra_headers` are request headers allowed besides the gateway's and
    :data:`TOOLING_HEADERS` (`GATEWAY_CORS_HEADERS`).
    """

    def __init__(
        self,
        app: ASGIApp,
        origins: Collection[str],
        extra_headers: Collection[str] = (),
        max_age: int = PREFLIGHT_MAX_AGE,
    ) -> None:
        self.app = app
        self.any_origin = "*" in origins
        self.origins = frozenset(origins)
        names = (*SAFELISTED_HEADERS, *GATEWAY_HEADERS, *TOOLING_HEADERS, *extra_headers)
        self.allowed_headers = tuple(dict.fromkeys(name.strip().lower() for name in names))
        self.max_age = max_age

    def allows(self, origin: str) -> bool:
        """Whether `origin` (exactly as the browser sent it) may read the gateway's answers."""
        return self.any_origin or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if (
            origin is not None
            and scope["method"] == "OPTIONS"
            and "access-control-request-method" in headers
        ):
            await self.preflight(origin, headers)(scope, receive, send)
            return
        allowed = origin is not None and self.allows(origin)

        async def send_readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                answer = MutableHeaders(scope=message)
                if allowed:
                    answer["Access-Control-Allow-Origin"] = "*" if self.any_origin else str(origin)
                    answer["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
                if not self.any_origin:
                    # The answer differs by origin (allowed or not): caches must tell them apart.
                    merge_vary(answer, "Origin")
            await send(message)

        await self.app(scope, receive, send_readable)

    def preflight(self, origin: str, headers: Headers) -> Response:
        """The answer to a preflight: 200 with what is allowed, or 400 saying what is not."""
        if not self.allows(origin):
            return _refusal("Disallowed CORS origin")
        method = headers["access-control-request-method"]
        if method not in ALLOWED_METHODS:
            return _refusal(
                f"Disallowed CORS method {method!r}; allowed: {', '.join(ALLOWED_METHODS)}"
            )
        requested = headers.get("access-control-request-headers", "")
        names = [name.strip().lower() for name in requested.split(",") if name.strip()]
        refused = [name for name in names if name not in self.allowed_headers]
        if refused:
            return _refusal(
                f"Disallowed CORS headers: {', '.join(refused)} (GATEWAY_CORS_HEADERS adds "
                "request headers to those allowed)"
            )
        if "access-control-request-private-network" in headers:
            return _refusal("Disallowed CORS private-network access")
        return PlainTextResponse(
            "OK",
            headers={
                "Access-Control-Allow-Origin": "*" if self.any_origin else origin,
                "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
                "Access-Control-Allow-Headers": ", ".join(self.allowed_headers),
                "Access-Control-Max-Age": str(self.max_age),
                "Vary": _PREFLIGHT_VARY,
            },
        )


def _refusal(reason: str) -> Response:
    # No Access-Control-* header: the browser refuses the request, and learns nothing else.
    return PlainTextResponse(reason, status_code=400, headers={"Vary": _PREFLIGHT_VARY})
