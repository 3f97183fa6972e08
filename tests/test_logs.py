"""No log line carries the API key, a bearer token or a JWT, whatever logs it."""

from __future__ import annotations

import io
import logging

from gateway.logs import REDACTED, install_redaction, redact

KEY = "kombo-live-key-0123456789abcdef"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def test_redact_removes_secrets_bearer_tokens_and_jwts() -> None:
    text = f"key={KEY} Authorization: Bearer abc.DEF-123_= token {JWT} ok"
    out = redact(text, [KEY])
    assert KEY not in out and "abc.DEF-123_=" not in out and JWT not in out
    assert out == f"key={REDACTED} Authorization: Bearer {REDACTED} token {REDACTED} ok"


def test_installed_redaction_covers_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_redaction([KEY])
        logger.warning("calling with %s", f"Bearer {KEY}")
        try:
            raise RuntimeError(f"upstream said {KEY} and {JWT}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert KEY not in out
    assert JWT not in out
    assert out.count(REDACTED) >= 3
    assert "RuntimeError: upstream said" in out, "the traceback itself is kept"
