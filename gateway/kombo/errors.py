"""What can go wrong talking to Kombo: one hierarchy rooted in :class:`KomboError`.

Callers catch :class:`KomboError` broadly, or :class:`KomboAPIError` (Kombo answered with its
error body) and :class:`KomboUnavailable` (no usable answer) narrowly. Nothing here knows GraphQL.
"""

from __future__ import annotations


class KomboError(Exception):
    """Base class of every error raised by :mod:`gateway.kombo`.

    ``retry_after`` is the wait in seconds the answer asked for (``Retry-After`` or
    ``ratelimit-reset``), when it asked; ``attempts`` is how many requests were made in all
    before the error was raised (retries included).
    """

    retry_after: float | None = None
    attempts: int = 1


class KomboAPIError(KomboError):
    """Kombo answered with an error (its ``{"status": "error", "error": {...}}`` body).

    ``code`` is Kombo's own code (e.g. ``INTEGRATION.MODEL_NOT_AVAILABLE``) or ``None``; Kombo
    asks clients to branch on it rather than on the HTTP status, which is kept in ``status``.
    """

    def __init__(
        self,
        *,
        status: int,
        code: str | None,
        title: str | None,
        message: str,
        log_url: str | None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.message = message
        self.log_url = log_url

    def __repr__(self) -> str:
        return f"KomboAPIError(status={self.status}, code={self.code!r}, message={self.message!r})"


class KomboUnavailable(KomboError):
    """No usable answer from Kombo: the request failed in transit or the answer made no sense."""


class KomboTimeout(KomboUnavailable):
    """Kombo did not answer in time."""


class KomboDeadlineExceeded(KomboTimeout):
    """The caller's deadline passed before Kombo gave a usable answer (retries and waits
    included)."""


class KomboConnectionError(KomboUnavailable):
    """Kombo could not be reached."""


class KomboServerError(KomboUnavailable):
    """Kombo (or a proxy in front of it) answered 5xx without Kombo's error body.

    502, 503 and 504 are retried; other statuses are not.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class KomboRetriesExhausted(KomboUnavailable):
    """Kombo kept answering with a retryable error code, and the gateway stopped trying.

    Raised when the retries are used up, or when the wait Kombo asks for does not fit the wait
    cap or the caller's deadline. ``last_error`` is Kombo's last answer; its code, title,
    log link and status are repeated here, so callers can pass them on.
    """

    def __init__(self, last_error: KomboAPIError, *, attempts: int, reason: str) -> None:
        super().__init__(f"{last_error.message} (gave up after {attempts} attempt(s): {reason})")
        self.last_error = last_error
        self.attempts = attempts
        self.reason = reason
        self.status = last_error.status
        self.code = last_error.code
        self.title = last_error.title
        self.log_url = last_error.log_url


class KomboMalformedResponse(KomboUnavailable):
    """Kombo answered, but not with a body the spec describes."""


class KomboResponseTooLarge(KomboMalformedResponse):
    """Kombo's answer, decompressed, was longer than the client reads (``max_response_bytes``).

    Not retried: the same request would get the same oversized answer.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"Kombo's answer exceeds {limit} bytes (GATEWAY_UPSTREAM_MAX_BYTES)")
        self.limit = limit
