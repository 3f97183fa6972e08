"""No string Kombo supplies carries a secret to clients (issue 8, finding 5).

Kombo's ``message``, ``title``, ``log_url`` and ``code`` become a GraphQL error's message and
extensions in :func:`gateway_error`; each passes through the log lines' redaction first, on every
path: a final error, retries used up, an unusable answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.errors import UpstreamError, UpstreamUnavailable
from gateway.kombo.errors import (
    KomboAPIError,
    KomboMalformedResponse,
    KomboRetriesExhausted,
)
from gateway.redaction import REDACTED, Redactor
from gateway.upstream import gateway_error

KEY = "sk-live-" + "9c1d" * 6
OTHER_SECRET = "cursor-secret-" + "77" * 8
redactor = Redactor([KEY, OTHER_SECRET])


def api_error(status: int = 400, code: str | None = "PLATFORM.INPUT_INVALID") -> KomboAPIError:
    return KomboAPIError(
        status=status,
        code=code,
        title=f"Rejected key {KEY}",
        message=f"Invalid header Authorization: Bearer {KEY} ({OTHER_SECRET})",
        log_url=f"https://app.kombo.dev/logs?key={KEY}",
    )


def visible(error: Any) -> str:
    return repr((error.message, error.extensions()))


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_a_final_error_keeps_its_shape_with_the_secrets_redacted(status: int) -> None:
    error = gateway_error(api_error(status), redactor)
    assert isinstance(error, UpstreamError)
    assert KEY not in visible(error) and OTHER_SECRET not in visible(error)
    assert error.message == f"Invalid header Authorization: Bearer {REDACTED} ({REDACTED})"
    assert error.extensions() == {
        "code": "PLATFORM.INPUT_INVALID",
        "title": f"Rejected key {REDACTED}",
        "logUrl": f"https://app.kombo.dev/logs?key={REDACTED}",
        "status": status,
    }


def test_retries_used_up_keep_kombos_fields_redacted() -> None:
    last = api_error(503, "REMOTE.SERVICE_UNAVAILABLE")
    error = gateway_error(KomboRetriesExhausted(last, attempts=4, reason="used up"), redactor)
    assert isinstance(error, UpstreamUnavailable)
    assert KEY not in visible(error) and OTHER_SECRET not in visible(error)
    extensions = error.extensions()
    assert extensions["upstreamCode"] == "REMOTE.SERVICE_UNAVAILABLE"
    assert extensions["title"] == f"Rejected key {REDACTED}"
    assert extensions["logUrl"] == f"https://app.kombo.dev/logs?key={REDACTED}"
    assert error.message.startswith("Kombo gave no usable answer: Invalid header")


def test_a_code_holding_the_key_is_redacted_too() -> None:
    error = gateway_error(api_error(code=f"PLATFORM.{KEY}"), redactor)
    assert error.extensions()["code"] == f"PLATFORM.{REDACTED}"


def test_an_unusable_answer_is_redacted_too() -> None:
    error = gateway_error(KomboMalformedResponse(f"body echoed {KEY}"), redactor)
    assert error.message == f"Kombo gave no usable answer: body echoed {REDACTED}"


def test_without_secrets_bearer_tokens_and_jwts_still_go() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    error = gateway_error(
        KomboAPIError(status=401, code=None, title=jwt, message="Bearer abc123", log_url=None),
        Redactor(),
    )
    assert error.message == f"Bearer {REDACTED}"
    assert error.extensions()["title"] == REDACTED
