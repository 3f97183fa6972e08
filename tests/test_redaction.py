"""Redaction itself: secrets, bearer tokens and JWTs are masked wherever the text comes from."""

from __future__ import annotations

from gateway.redaction import REDACTED, redact

LIVE_KEY = "kombo-live-key-0123456789abcdef"
SHORT_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


def test_redact_removes_secrets_bearer_tokens_and_jwts() -> None:
    text = f"key={LIVE_KEY} Authorization: Bearer abc.DEF-123_= token {SHORT_JWT} ok"
    out = redact(text, [LIVE_KEY])
    assert LIVE_KEY not in out and "abc.DEF-123_=" not in out and SHORT_JWT not in out
    assert out == f"key={REDACTED} Authorization: Bearer {REDACTED} token {REDACTED} ok"
