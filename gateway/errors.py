"""The gateway's own errors: one hierarchy, one base class, names that say what went wrong.

Resolvers, the context getter and validation raise these; the HTTP layer turns them into
GraphQL errors whose `extensions.code` is the contract's code (CONTRACT.md §1 "Errors").
Nothing here knows about HTTP frameworks or GraphQL libraries: `http_status` is only a number
the endpoint uses when the error stops a request before execution (authentication, limits).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadUserInput",
    "Forbidden",
    "GatewayError",
    "QueryTooComplex",
    "Unauthenticated",
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
