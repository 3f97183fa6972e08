"""No secret leaves the process: the secrets' spellings, and how a text or a body is masked.

A :class:`Redactor` holds one process's secrets (``Settings.secrets()``, the API key first);
:func:`redact` also removes anything shaped like a bearer token or a JWT. The same redaction
guards three exits (README "Logs" and "Security"): every log line
(:func:`gateway.observability.logs.install_redaction`), every string from upstream that becomes
a GraphQL error (:func:`gateway.upstream.gateway_error`), and every response body as a
last check (:mod:`gateway.secret_guard`).
"""

from __future__ import annotations

import json
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


def spellings(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret verbatim and JSON-escaped, longest first: a secret that contains another is
    replaced whole."""
    values = tuple(v for v in secrets if v)
    escaped = (json.dumps(v)[1:-1] for v in values)
    return tuple(sorted({*values, *escaped}, key=len, reverse=True))


class Redactor:
    """:func:`redact` bound to one process's secrets (``Settings.secrets()``): what guards the
    log lines also guards what reaches clients (see the module's docstring)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.spellings = spellings(secrets)
        self.needles = tuple(s.encode() for s in self.spellings)
        """The spellings as UTF-8: how they appear in an encoded JSON body."""

    def __call__(self, text: str) -> str:
        return redact(text, self.spellings)

    def scrub(self, body: bytes, replacement: bytes | None = None) -> bytes | None:
        """``body`` with each secret replaced (by ``[redacted]``, or by ``replacement`` repeated
        to the secret's length); ``None`` when it holds none (the usual case: one ``in`` check,
        memchr-fast, per spelling)."""
        found = [needle for needle in self.needles if needle in body]
        if not found:
            return None
        for needle in found:
            mask = REDACTED.encode() if replacement is None else replacement * len(needle)
            body = body.replace(needle, mask)
        return body
