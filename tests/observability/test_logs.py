"""Structured logs: one JSON line per GraphQL request and per upstream call, uvicorn's lines in
the same format, the request id honoured or generated and returned, and no secret in any line,
whatever logs it (the last test wraps a handler, without a process).
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import LogSettings, SettingsError
from gateway.observability.logs import configure_logging, install_redaction, logging_config
from gateway.observability.request_id import accept_request_id
from gateway.redaction import REDACTED
from tests.support.clients import Sandbox
from tests.support.observability import MODEL_NOT_AVAILABLE, RATE_LIMITED, ObservedGateway
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhY21lIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
LIVE_KEY = "kombo-live-key-0123456789abcdef"
SHORT_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
REQUEST_LINE = {
    "request_id",
    "operation",
    "integration",
    "duration_ms",
    "upstream_calls",
    "error_codes",
    "status",
}
UPSTREAM_LINE = {"request_id", "status", "duration_ms", "attempt", "endpoint"}


def wait_for_lines(
    observed: ObservedGateway, request_id: str, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """The request's lines, once ``done`` says they are all there (the log is a file)."""
    deadline = time.monotonic() + 5
    while True:
        lines = observed.lines_of(request_id)
        if done(lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)


def events(lines: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == event]


def test_a_request_logs_one_json_line_with_its_fields(observed: ObservedGateway) -> None:
    request_id = "obs-" + uuid.uuid4().hex
    observed.client.query(
        'query Listing { interviews(first: 2) { nodes { id } } one: interview(id: "x") { id } }',
        headers={"X-Request-Id": request_id},
    )
    lines = wait_for_lines(observed, request_id, lambda ls: bool(events(ls, "graphql_request")))
    [summary] = events(lines, "graphql_request")
    assert summary.keys() >= REQUEST_LINE
    assert summary["request_id"] == request_id
    assert summary["operation"] == "Listing"
    assert summary["operation_type"] == "query"
    assert summary["integration"] == DEFAULT_INTEGRATION
    assert summary["status"] == 200 and summary["outcome"] == "ok"
    assert summary["upstream_calls"] == 2  # the page and the id batch
    assert summary["error_codes"] == []
    assert isinstance(summary["duration_ms"], float) and summary["duration_ms"] > 0
    assert summary["level"] == "info" and summary["logger"] == "gateway.request"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", summary["time"])

    calls = events(lines, "upstream_call")
    assert len(calls) == 2
    for call in calls:
        assert call.keys() >= UPSTREAM_LINE
        assert call["status"] == 200 and call["attempt"] == 1
        assert call["endpoint"] == "/ats/interviews"
        assert "log_url" not in call


def test_upstream_errors_log_each_attempt_with_kombos_log_url(
    observed: ObservedGateway, sandbox: Sandbox
) -> None:
    request_id = "obs-" + uuid.uuid4().hex
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"ratelimit-reset": "0.01"})
    sandbox.fault(status=400, body=MODEL_NOT_AVAILABLE)
    errors = observed.client.errors(
        "query Failing { interviews(first: 2) { nodes { id } } }",
        headers={"X-Request-Id": request_id},
    )
    assert errors[0]["extensions"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
    lines = wait_for_lines(observed, request_id, lambda ls: bool(events(ls, "graphql_request")))
    first, second = events(lines, "upstream_call")
    assert (first["status"], first["attempt"], first["level"]) == (429, 1, "warning")
    assert first["log_url"] == RATE_LIMITED["error"]["log_url"]
    assert first["code"] == "PLATFORM.RATE_LIMIT_EXCEEDED"
    assert (second["status"], second["attempt"]) == (400, 2)
    assert second["log_url"] == MODEL_NOT_AVAILABLE["error"]["log_url"]
    [summary] = events(lines, "graphql_request")
    assert summary["error_codes"] == ["INTEGRATION.MODEL_NOT_AVAILABLE"]
    assert summary["outcome"] == "upstream_error"
    assert summary["upstream_calls"] == 2


def test_no_secret_reaches_a_json_line(observed: ObservedGateway, sandbox: Sandbox) -> None:
    """Kombo's error message (logged with the retry) holds the key, a bearer token and a JWT:
    the line is still valid JSON, and they are redacted."""
    leaky = {
        "status": "error",
        "error": {
            **RATE_LIMITED["error"],
            "message": f"key {API_KEY} and Authorization: Bearer tok3n-Value and {JWT}",
        },
    }
    sandbox.fault(status=429, body=leaky, headers={"ratelimit-reset": "0.01"})
    request_id = "obs-" + uuid.uuid4().hex
    observed.client.query(
        "query Leaky { interviews(first: 1) { nodes { id } } }",
        headers={"X-Request-Id": request_id, "Authorization": f"Bearer {JWT}"},
    )
    lines = wait_for_lines(observed, request_id, lambda ls: bool(events(ls, "graphql_request")))
    redacted = [line for line in lines if REDACTED in line["message"]]
    assert redacted, lines
    text = observed.log.read_text()
    for secret in (API_KEY, "tok3n-Value", JWT):
        assert secret not in text


def test_uvicorns_own_lines_are_json_too(observed: ObservedGateway) -> None:
    lines = observed.lines()  # each one parsed: a line that is not JSON fails here
    uvicorn = [line for line in lines if line["logger"].startswith("uvicorn")]
    assert any("Started server process" in line["message"] for line in uvicorn)
    assert any(line["logger"] == "gateway" for line in lines)  # the start-up summary


# --- X-Request-Id ------------------------------------------------------------------------------


def test_a_request_id_is_honoured_and_returned(observed: ObservedGateway) -> None:
    request_id = "trace:abc/123+x=="
    response = observed.client.post("{ __typename }", headers={"X-Request-Id": request_id})
    assert response.headers["x-request-id"] == request_id


def test_a_request_id_is_generated_when_missing_or_unusable(observed: ObservedGateway) -> None:
    generated = observed.client.post("{ __typename }").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    for unusable in ("x" * 129, "two words", 'quote"d', ""):
        headers = {"X-Request-Id": unusable}
        returned = observed.client.post("{ __typename }", headers=headers).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", returned), unusable


def test_every_answer_carries_a_request_id(observed: ObservedGateway) -> None:
    for path in ("/healthz", "/readyz", "/metrics", "/graphql?query=%7B"):
        assert (
            httpx.get(observed.url + path, headers={"X-Request-Id": "r-1"}).headers["x-request-id"]
            == "r-1"
        ), path
    headers = {"X-Request-Id": "r-2", "Content-Type": "application/json"}
    refused = httpx.post(observed.url + "/graphql", content=b"{", headers=headers)
    assert refused.status_code == 400 and refused.headers["x-request-id"] == "r-2"


def test_accept_request_id_bounds_length_and_charset() -> None:
    assert accept_request_id("a" * 128) == "a" * 128
    assert accept_request_id("a" * 129) != "a" * 129
    assert accept_request_id("line\nbreak") != "line\nbreak"
    assert accept_request_id(None) != accept_request_id(None)


# --- the formatter itself ------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Any:
    """The root logger writing JSON to a buffer (as configure_logging sets it up)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("json", "info")
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def test_json_lines_are_redacted_even_where_json_escapes_the_secret(json_log: io.StringIO) -> None:
    secret = 'pa"ss\\word-' + uuid.uuid4().hex  # JSON spells it pa\"ss\\\\word-...
    install_redaction([secret])
    log = logging.getLogger("tests.observability")
    log.warning("upstream said %s; Authorization: Bearer abc.DEF-123", secret)
    try:
        raise RuntimeError(f"boom {secret} {JWT}")
    except RuntimeError:
        log.exception("failed", extra={"fields": {"token": f"Bearer {JWT}"}})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    assert len(lines) == 2
    text = json_log.getvalue()
    assert secret not in text and json.dumps(secret)[1:-1] not in text and JWT not in text
    assert lines[0]["message"] == f"upstream said {REDACTED}; Authorization: Bearer {REDACTED}"
    assert "RuntimeError: boom [redacted] [redacted]" in lines[1]["exception"]
    assert lines[1]["token"] == f"Bearer {REDACTED}"


def test_log_settings_are_checked() -> None:
    assert LogSettings.from_env({}) == LogSettings("text", "info")
    assert LogSettings.from_env({"LOG_FORMAT": "JSON", "LOG_LEVEL": "Debug"}) == LogSettings(
        "json", "debug"
    )
    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        LogSettings.from_env({"LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        LogSettings.from_env({"LOG_LEVEL": "loud"})


def test_uvicorn_gets_the_same_configuration() -> None:
    config = logging_config("json", "warning", ["s3cret"])
    assert config["formatters"]["gateway"] == {
        "()": "gateway.observability.logs.formatter",
        "format": "json",
        "secrets": ["s3cret"],
    }
    assert config["loggers"]["uvicorn"]["propagate"] is True
    assert config["root"]["level"] == "WARNING"


def test_installed_redaction_covers_messages_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_redaction([LIVE_KEY])
        logger.warning("calling with %s", f"Bearer {LIVE_KEY}")
        try:
            raise RuntimeError(f"upstream said {LIVE_KEY} and {SHORT_JWT}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert LIVE_KEY not in out
    assert SHORT_JWT not in out
    assert out.count(REDACTED) >= 3
    assert "RuntimeError: upstream said" in out, "the traceback itself is kept"


@given(st.text())
def test_a_text_value_is_quoted_exactly_when_it_has_a_space_or_a_quote(text: str) -> None:
    from gateway.observability.logs import _text_value

    needs_quotes = not text or any(c.isspace() or c == '"' for c in text)
    assert _text_value(text) == (json.dumps(text) if needs_quotes else text)
    if needs_quotes:
        assert json.loads(_text_value(text)) == text
