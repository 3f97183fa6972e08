"""Kombo's failures as the gateway's errors: what a GraphQL client sees of an upstream failure.

Every string Kombo supplied passes through the log lines' redaction first (README "Errors").
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.errors import GatewayError, UpstreamError, UpstreamGaveUp, UpstreamUnavailable
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
