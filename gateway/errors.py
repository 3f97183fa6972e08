"""The gateway's own errors: one hierarchy, one base class, names that say what went wrong.

Resolvers, the context getter and validation raise these; the HTTP layer turns them into
GraphQL errors whose `extensions.code` is the documented code (README "Errors").
Nothing here knows about HTTP frameworks or GraphQL libraries: `http_status` is only a number
the endpoint uses when the error stops a request before execution (authentication, limits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "BadUserInput",
    "Forbidden",
    "GatewayError",
    "InvalidPersistedQuery",
    "PersistedQueryError",
    "PersistedQueryNotFound",
    "PersistedQueryNotSupported",
    "QueryTooComplex",
    "Unauthenticated",
    "UntrustedDocument",
    "UpstreamError",
    "UpstreamUnavailable",
]


class GatewayError(Exception):
    """Base of every error the gateway reports to clients on purpose.

    Catch it to handle any of them; each subclass fixes the contract's `code` and the HTTP
    status used when the error is raised before execution starts. Any exception that is *not*
    a `GatewayError` is a bug and is reported as `INTERNAL_SERVER_ERROR`, its text masked.
    """

    code: str = "INTERNAL_SERVER_ERROR"
    http_status: int = 500
    default_message: str = "Internal server error."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def extensions(self) -> dict[str, Any]:
        """The GraphQL error's `extensions` entry: at least `{"code": self.code}`."""
        return {"code": self.code}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class BadUserInput(GatewayError):
    """The request asks for something invalid: bad arguments, a foreign cursor, a bad body."""

    code = "BAD_USER_INPUT"
    http_status = 400
    default_message = "The request is invalid."


class Unauthenticated(GatewayError):
    """No credentials, or credentials that could not be verified."""

    code = "UNAUTHENTICATED"
    http_status = 401
    default_message = "Authentication is required."


class Forbidden(GatewayError):
    """Verified credentials that do not allow this request."""

    code = "FORBIDDEN"
    http_status = 403
    default_message = "This request is not allowed."


class QueryTooComplex(GatewayError):
    """The operation exceeds the gateway's depth or cost limits."""

    code = "QUERY_TOO_COMPLEX"
    http_status = 400
    default_message = "The query is too complex."


class UpstreamUnavailable(GatewayError):
    """No usable answer from Kombo in time: timeout, connection error, malformed body, retries
    used up."""

    code = "UPSTREAM_UNAVAILABLE"
    http_status = 502
    default_message = "The upstream API is unavailable."


class UpstreamError(GatewayError):
    """Kombo answered with an error; its code, title and log link are passed on verbatim.

    `code` is Kombo's (e.g. `INTEGRATION.MODEL_NOT_AVAILABLE`), or `UPSTREAM_ERROR` when
    Kombo's is null; `status` is the upstream HTTP status.
    """

    code = "UPSTREAM_ERROR"
    http_status = 502
    default_message = "The upstream API returned an error."

    def __init__(
        self,
        message: str | None,
        *,
        code: str | None,
        title: str | None,
        log_url: str | None,
        status: int,
    ) -> None:
        super().__init__(message)
        self.code = code or "UPSTREAM_ERROR"
        self.title = title
        self.log_url = log_url
        self.status = status

    def extensions(self) -> dict[str, Any]:
        """`{"code", "title", "logUrl", "status"}`, the contract's shape for upstream errors."""
        return {
            "code": self.code,
            "title": self.title,
            "logUrl": self.log_url,
            "status": self.status,
        }

    def __repr__(self) -> str:
        return f"UpstreamError({self.message!r}, code={self.code!r}, status={self.status})"


# Apollo Server's headers for these answers: the same request must reach the server again.
_UNCACHEABLE = {"Cache-Control": "private, no-cache, must-revalidate"}


class PersistedQueryError(GatewayError):
    """A persisted-query request the gateway answers without running anything
    (:mod:`gateway.persisted`).

    `http_status` is used whatever the response media type; `headers` go on the response.
    """

    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, message: str | None = None, *, http_status: int | None = None) -> None:
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status


class PersistedQueryNotFound(PersistedQueryError):
    """No document is known for the hash; an APQ client retries with the full query."""

    code = "PERSISTED_QUERY_NOT_FOUND"
    http_status = 200
    # Apollo Client matches the message or the code, urql only the message: keep both exact.
    default_message = "PersistedQueryNotFound"
    headers = _UNCACHEABLE


class PersistedQueryNotSupported(PersistedQueryError):
    """APQ is off; an APQ client stops sending hashes and retries with the full query."""

    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    http_status = 200
    default_message = "PersistedQueryNotSupported"
    headers = _UNCACHEABLE


class InvalidPersistedQuery(PersistedQueryError):
    """A malformed `persistedQuery` extension, an unsupported version, or a hash that is not
    the query's."""

    code = "BAD_USER_INPUT"
    http_status = 400
    default_message = "The persistedQuery extension is invalid."


class UntrustedDocument(PersistedQueryError):
    """Trusted-documents mode: the full query is not in the manifest."""

    code = "BAD_USER_INPUT"
    http_status = 400
    default_message = (
        "only trusted documents may run: this gateway runs only the documents listed in its "
        "trusted-documents manifest"
    )
