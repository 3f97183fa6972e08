"""What can go wrong talking to Kombo: one hierarchy rooted in :class:`KomboError`.

Callers catch :class:`KomboError` broadly, or :class:`KomboAPIError` (Kombo answered with its
error body) and :class:`KomboUnavailable` (no usable answer) narrowly. Nothing here knows GraphQL.
"""

from __future__ import annotations


class KomboError(Exception):
    """Base class of every error raised by :mod:`gateway.kombo`."""


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


class KomboConnectionError(KomboUnavailable):
    """Kombo could not be reached."""


class KomboMalformedResponse(KomboUnavailable):
    """Kombo answered, but not with a body the spec describes."""
