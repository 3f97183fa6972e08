"""Log hygiene: no log line ever carries the Kombo API key or a bearer token.

:func:`install_redaction` wraps the formatter of every handler configured so far (the root
logger's and uvicorn's), so that whatever a library logs, an exception's text included, passes
through :func:`redact` on its way out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"

# `Authorization: Bearer …` values, and anything shaped like a JWT (header.payload.signature).
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret, bearer token and JWT replaced by ``[redacted]``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return _JWT.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """Formats with the wrapped formatter, then redacts the whole line."""

    def __init__(self, inner: logging.Formatter, secrets: tuple[str, ...]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record), self.secrets)


def install_redaction(secrets: Iterable[str]) -> None:
    """Wrap every configured handler's formatter (idempotent)."""
    known = tuple(s for s in secrets if s)
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            current = handler.formatter or logging.Formatter()
            if isinstance(current, RedactingFormatter):
                current.secrets = tuple(dict.fromkeys(current.secrets + known))
            else:
                handler.setFormatter(RedactingFormatter(current, known))
