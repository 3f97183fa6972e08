"""Kombo's failures as the gateway's errors: what a GraphQL client sees of an upstream failure.

Every string Kombo supplied passes through the log lines' redaction first (README "Errors").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.errors import GatewayError, UpstreamError, UpstreamUnavailable
from gateway.kombo import KomboAPIError, KomboError, KomboRetriesExhausted

Redact = Callable[[str], str]


def gateway_error(exc: KomboError, redact: Redact) -> GatewayError:
    """What a Kombo failure looks like to a GraphQL client (README "Errors").

    Every string Kombo supplied (message, title, log link, code) passes through ``redact`` (the
    log lines' redaction, with the process's secrets): an upstream that echoes the request's
    ``Authorization: Bearer <key>`` in its error text must not hand the key to clients.
    """
    if isinstance(exc, KomboAPIError):
        return UpstreamError(
            redact(exc.message),
            code=_redacted(exc.code, redact),
            title=_redacted(exc.title, redact),
            log_url=_redacted(exc.log_url, redact),
            status=exc.status,
        )
    if isinstance(exc, KomboRetriesExhausted):
        return UpstreamGaveUp(exc, redact)
    return UpstreamUnavailable(redact(f"Kombo gave no usable answer: {exc}"))


def _redacted(text: str | None, redact: Redact) -> str | None:
    return None if text is None else redact(text)


class UpstreamGaveUp(UpstreamUnavailable):
    """``UPSTREAM_UNAVAILABLE`` after Kombo kept answering "not now" (a rate limit, a concurrency
    limit, the remote ATS down) until the retries ran out: Kombo's code is kept as
    ``upstreamCode``, beside its ``title``, ``logUrl`` and the upstream HTTP ``status`` (each
    string through ``redact``, as in :func:`gateway_error`)."""

    def __init__(self, exc: KomboRetriesExhausted, redact: Redact) -> None:
        super().__init__(redact(f"Kombo gave no usable answer: {exc}"))
        self.upstream_code = _redacted(exc.code, redact)
        self.title = _redacted(exc.title, redact)
        self.log_url = _redacted(exc.log_url, redact)
        self.status = exc.status

    def extensions(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "upstreamCode": self.upstream_code,
            "title": self.title,
            "logUrl": self.log_url,
            "status": self.status,
        }
