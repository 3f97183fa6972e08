"""The gateway's error policy: every error class it reports, and what each code means.

Resolvers, the context getter, validation and admission raise these; the schema's error shaping
(:mod:`gateway.schema.error_handling`) turns them into GraphQL errors whose `extensions.code` is
the documented code (README "Errors"). :func:`code_policy` is the one table of what a code means
beyond GraphQL: the HTTP status of a request it stops before execution, and the request's
outcome in metrics and logs (README "Operations").
Nothing here knows about HTTP frameworks or GraphQL libraries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from gateway.kombo import KomboRetriesExhausted

__all__ = [
    "BAD_REQUEST",
    "CLIENT_DISCONNECTED",
    "INTERNAL_ERROR",
    "INTERNAL_SERVER_ERROR",
    "OK",
    "OUTCOMES",
    "UNAUTHORIZED",
    "UPSTREAM_FAILURE",
    "BadUserInput",
    "CodePolicy",
    "Forbidden",
    "GatewayAtCapacity",
    "GatewayError",
    "InvalidPersistedQuery",
    "PersistedQueryError",
    "PersistedQueryNotFound",
    "PersistedQueryNotSupported",
    "QueryTooComplex",
    "Unauthenticated",
    "UntrustedDocument",
    "UpstreamError",
    "UpstreamGaveUp",
    "UpstreamUnavailable",
    "code_policy",
]

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
"""The code of a bug: the message is masked (README "Errors")."""


class GatewayError(Exception):
    """Base of every error the gateway reports to clients on purpose.

    Catch it to handle any of them; each subclass fixes the contract's `code` and the HTTP
    status used when the error is raised before execution starts. Any exception that is *not*
    a `GatewayError` is a bug and is reported as `INTERNAL_SERVER_ERROR`, its text masked.
    """

    code: str = INTERNAL_SERVER_ERROR
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


class UpstreamGaveUp(UpstreamUnavailable):
    """``UPSTREAM_UNAVAILABLE`` after Kombo kept answering "not now" (a rate limit, a concurrency
    limit, the remote ATS down) until the retries ran out: Kombo's code is kept as
    ``upstreamCode``, beside its ``title``, ``logUrl`` and the upstream HTTP ``status`` (each
    string through ``redact``, the log lines' redaction)."""

    def __init__(self, exc: KomboRetriesExhausted, redact: Callable[[str], str]) -> None:
        super().__init__(redact(f"Kombo gave no usable answer: {exc}"))
        self.upstream_code = None if exc.code is None else redact(exc.code)
        self.title = None if exc.title is None else redact(exc.title)
        self.log_url = None if exc.log_url is None else redact(exc.log_url)
        self.status = exc.status

    def extensions(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "upstreamCode": self.upstream_code,
            "title": self.title,
            "logUrl": self.log_url,
            "status": self.status,
        }


class GatewayAtCapacity(UpstreamUnavailable):
    """The request waited for memory admission (:mod:`gateway.admission`) until its deadline:
    HTTP 503 with ``Retry-After``, code ``UPSTREAM_UNAVAILABLE`` (the contract's codes are
    fixed)."""

    http_status = 503

    def __init__(self, waited: float, retry_after: int) -> None:
        super().__init__(
            f"the gateway is at capacity: this request waited {waited:g} s (its deadline, "
            "GATEWAY_REQUEST_TIMEOUT) for other requests' memory to be released; retry "
            f"in {retry_after} s"
        )
        self.retry_after = retry_after


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


# The same request must reach the server again: never stored (Apollo Server sends
# "private, no-cache, must-revalidate"; no-store is stricter, and what every error answer of the
# gateway carries, README "HTTP caching").
_UNCACHEABLE = {"Cache-Control": "no-store"}


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


# What a code means beyond GraphQL: one table for the endpoint and for metrics and logs.

OK = "ok"
BAD_REQUEST = "bad_request"
UNAUTHORIZED = "unauthorized"
UPSTREAM_FAILURE = "upstream_error"
INTERNAL_ERROR = "internal_error"
OUTCOMES = (OK, BAD_REQUEST, UNAUTHORIZED, UPSTREAM_FAILURE, INTERNAL_ERROR)
"""A request's outcomes (metrics' ``outcome`` label, the log line's), from least to most grave:
a request's is the gravest of its errors'."""
CLIENT_DISCONNECTED = "client_disconnected"
"""The outcome of a request whose client closed the connection before its body was read."""


@dataclass(frozen=True, slots=True)
class CodePolicy:
    """What one ``extensions.code`` means outside the GraphQL response."""

    http_status: int
    """The status of a response without ``data`` (``application/graphql-response+json``) that
    holds this error: the gravest status among its errors' wins."""
    outcome: str
    """The request's outcome (one of :data:`OUTCOMES`) when this is its gravest error."""


_POLICIES: dict[str, CodePolicy] = {
    error_class.code: CodePolicy(error_class.http_status, outcome)
    for error_class, outcome in (
        (BadUserInput, BAD_REQUEST),
        (QueryTooComplex, BAD_REQUEST),
        (Unauthenticated, UNAUTHORIZED),
        (Forbidden, UNAUTHORIZED),
        (UpstreamUnavailable, UPSTREAM_FAILURE),
        (UpstreamError, UPSTREAM_FAILURE),
        (PersistedQueryNotFound, BAD_REQUEST),
        (PersistedQueryNotSupported, BAD_REQUEST),
        (GatewayError, INTERNAL_ERROR),  # INTERNAL_SERVER_ERROR
    )
}
# Kombo's own codes (``INTEGRATION.MODEL_NOT_AVAILABLE``: an `UpstreamError`'s) are dotted.
_KOMBO_CODE = CodePolicy(UpstreamError.http_status, UPSTREAM_FAILURE)
# A code no one here wrote (the telemetry's ``UNKNOWN`` for an error without one).
_OTHER_CODE = CodePolicy(UpstreamError.http_status, BAD_REQUEST)


def code_policy(code: str | None) -> CodePolicy:
    """What ``code`` means: the gateway's codes from the table, Kombo's (dotted) as upstream
    errors, any other as a bad request."""
    if code is None:
        return _OTHER_CODE
    policy = _POLICIES.get(code)
    if policy is not None:
        return policy
    return _KOMBO_CODE if "." in code else _OTHER_CODE
