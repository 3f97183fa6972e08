"""Every wrong input and every upstream error becomes the contract's GraphQL error; the server
keeps serving, and no response or log line carries the API key.

Kombo's "not now" codes (rate and concurrency limits, the remote ATS unavailable) and 502/503
answers without Kombo's body are retried (README "Resilience"): those faults are queued once per
attempt, and surface as ``UPSTREAM_UNAVAILABLE`` keeping Kombo's code once the retries are used
up. Every other answer is final after one request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.kombo.retry import RETRYABLE_CODES
from gateway.sandbox.data import INTEGRATIONS, MODEL_NOT_AVAILABLE_INTEGRATION
from tests.support.clients import Gateway, Sandbox
from tests.support.kombo_bodies import KOMBO_ERROR_CODES, kombo_error_body
from tests.support.secret_scanning import API_KEY
from tests.support.truth import gid

LIST = "query($first: Int, $after: String, $f: InterviewFilter) { interviews(first: $first, after: $after, filter: $f) { edges { cursor node { id } } } }"  # noqa: E501


def only_error(gateway: Gateway, query: str, variables: dict[str, Any] | None = None, **kw: Any):
    errors = gateway.errors(query, variables, **kw)
    assert len(errors) == 1, errors
    return errors[0]


LOG_URL = "https://app.kombo.dev/my-prod/logs?interactionId=123456"
# README: GATEWAY_UPSTREAM_RETRIES defaults to 3, and the session gateway leaves it unset.
ATTEMPTS = 1 + 3
CASES = [(code, 400) for code in KOMBO_ERROR_CODES] + [
    ("PLATFORM.AUTHENTICATION_INVALID", 401),
    ("INTEGRATION.MODEL_NOT_AVAILABLE", 403),
    ("PLATFORM.INTEGRATION_NOT_FOUND", 404),
    ("PLATFORM.UNKNOWN_ERROR", 500),
]


@pytest.mark.parametrize(("code", "status"), [c for c in CASES if c[0] not in RETRYABLE_CODES])
def test_each_kombo_error_keeps_its_code_title_log_url_and_status(
    gateway: Gateway, sandbox: Sandbox, code: str, status: int
) -> None:
    sandbox.fault(
        status=status, body=kombo_error_body(code, f"Title of {code}", f"Says {code}", LOG_URL)
    )
    error = only_error(gateway, LIST, {"first": 5})
    assert error["message"] == f"Says {code}"
    assert error["path"] == ["interviews"]
    assert error["extensions"] == {
        "code": code,
        "title": f"Title of {code}",
        "logUrl": LOG_URL,
        "status": status,
    }
    assert len(sandbox.requests()) == 1, "a final answer is never retried"


@pytest.mark.parametrize(("code", "status"), [c for c in CASES if c[0] in RETRYABLE_CODES])
def test_a_retryable_kombo_error_that_persists_is_unavailable_keeping_its_code(
    gateway: Gateway, sandbox: Sandbox, code: str, status: int
) -> None:
    sandbox.fault(
        status=status,
        body=kombo_error_body(code, f"Title of {code}", f"Says {code}", LOG_URL),
        times=ATTEMPTS,
    )
    error = only_error(gateway, LIST, {"first": 5})
    assert error["message"].startswith(f"Kombo gave no usable answer: Says {code}")
    assert f"gave up after {ATTEMPTS} attempt(s)" in error["message"]
    assert error["path"] == ["interviews"]
    assert error["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "upstreamCode": code,
        "title": f"Title of {code}",
        "logUrl": LOG_URL,
        "status": status,
    }
    assert len(sandbox.requests()) == ATTEMPTS


def test_the_specs_example_error_body_is_passed_on(gateway: Gateway, sandbox: Sandbox) -> None:
    message = (
        'The "employees" model is not yet available for Greenhouse. '
        "Please reach out to Kombo if you need this functionality."
    )
    title = "This data model isn't supported for the selected integration."
    sandbox.fault(
        status=400,
        body=kombo_error_body("INTEGRATION.MODEL_NOT_AVAILABLE", title, message, LOG_URL),
    )
    error = only_error(gateway, LIST, {"first": 5})
    assert error["message"] == message
    assert error["extensions"]["title"] == title


def test_the_minimal_error_body_with_null_code_is_upstream_error(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(
        status=400,
        body=kombo_error_body(None, None, "The message is always in the response.", None),
    )
    error = only_error(gateway, LIST, {"first": 5})
    assert error["message"] == "The message is always in the response."
    assert error["extensions"] == {
        "code": "UPSTREAM_ERROR",
        "title": None,
        "logUrl": None,
        "status": 400,
    }


def test_an_upstream_error_in_an_id_lookup_nulls_only_those_fields(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(
        status=403, body=kombo_error_body("INTEGRATION.PERMISSION_MISSING", "No", "Denied", None)
    )
    body = gateway.post('{ a: interview(id: "x1") { id } b: interview(id: "x2") { id } }').json()
    assert body["data"] == {"a": None, "b": None}
    assert sorted(e["path"][0] for e in body["errors"]) == ["a", "b"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INTEGRATION.PERMISSION_MISSING"}


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ({"status": 200, "raw": "<html>not json</html>"}, "a success that is not JSON"),
        (
            {"status": 200, "body": {"status": "success", "data": {"results": "nope"}}},
            "wrong shape",
        ),
        (
            {
                "status": 200,
                "body": {"status": "success", "data": {"next": None, "results": [{"id": "x"}]}},
            },
            "an interview without changed_at",
        ),
        ({"status": 500, "raw": "<html>Internal error</html>"}, "a 500 without a Kombo body"),
        (
            {"status": 502, "raw": "<html>Bad gateway</html>", "times": ATTEMPTS},
            "a 502 without a Kombo body, every attempt",
        ),
        (
            {"status": 503, "body": {"message": "down"}, "times": ATTEMPTS},
            "a 503 with a foreign body, every attempt",
        ),
    ],
)
def test_an_unusable_upstream_answer_is_upstream_unavailable(
    gateway: Gateway, sandbox: Sandbox, fault: dict[str, Any], why: str
) -> None:
    sandbox.fault(**fault)
    error = only_error(gateway, LIST, {"first": 5})
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE", why
    assert "Traceback" not in error["message"]
    assert len(sandbox.requests()) == fault.get("times", 1), "only 502/503/504 are retried"


def test_an_unknown_integration_is_kombos_integration_not_found(gateway: Gateway) -> None:
    error = only_error(gateway, LIST, {"first": 5}, headers={"X-Integration-Id": "personio:nope"})
    assert error["extensions"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"
    assert error["extensions"]["status"] == 404


def test_an_integration_without_interviews_is_kombos_model_not_available(gateway: Gateway) -> None:
    headers = {"X-Integration-Id": MODEL_NOT_AVAILABLE_INTEGRATION}
    error = only_error(gateway, LIST, {"first": 5}, headers=headers)
    assert error["extensions"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"


@pytest.mark.parametrize("first", [0, -1, 251, 10_000, None])
def test_first_outside_1_to_250_is_bad_user_input_without_upstream_call(
    gateway: Gateway, sandbox: Sandbox, first: int | None
) -> None:
    error = only_error(gateway, LIST, {"first": first})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "first" in error["message"]
    assert sandbox.requests() == []


def test_a_first_of_the_wrong_type_is_bad_user_input_with_http_400(gateway: Gateway) -> None:
    response = gateway.post(LIST, {"first": "ten"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def a_cursor(gateway: Gateway, **headers: str) -> str:
    data = gateway.query(LIST, {"first": 3}, headers=headers)
    return str(data["interviews"]["edges"][1]["cursor"])


def tampered(cursor: str) -> str:
    payload, mac = cursor.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return flipped + "." + mac


@pytest.mark.parametrize(
    "make_after",
    [
        lambda gw: "not-a-cursor",
        lambda gw: "",
        lambda gw: "a.b",
        lambda gw: tampered(a_cursor(gw)),
        lambda gw: a_cursor(gw)[:-3],
        lambda gw: a_cursor(gw, **{"X-Integration-Id": INTEGRATIONS[1]}),
    ],
    ids=["garbage", "empty", "dotted", "tampered", "truncated", "other-integration"],
)
def test_a_cursor_the_gateway_did_not_issue_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, make_after: Any
) -> None:
    after = make_after(gateway)
    sandbox.clear()
    error = only_error(gateway, LIST, {"first": 5, "after": after})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("after:")
    assert sandbox.requests() == []


def test_a_cursor_resumed_with_other_filters_is_bad_user_input(gateway: Gateway) -> None:
    after = a_cursor(gateway)
    error = only_error(gateway, LIST, {"first": 5, "after": after, "f": {"includeDeleted": True}})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == (
        "after: this cursor was issued for another connection or other filter arguments"
    )


@pytest.mark.parametrize(
    ("flt", "mentions"),
    [
        ({"updatedAfter": "yesterday"}, "DateTime"),
        ({"updatedAfter": "2024-01-01T00:00:00"}, "offset"),
        ({"updatedAfter": 1700000000}, "DateTime"),
        ({"ids": ["a,b"]}, "comma"),
        ({"ids": [""]}, "empty"),
        ({"jobIds": ["   "]}, "empty"),
        ({"remoteIds": ["x"] * 251}, "at most 250"),
        ({"ids": ["x" * 201]}, "at most 200 characters"),
        ({"includeDeleted": "yes"}, "Boolean"),
        ({"nope": True}, "nope"),
    ],
)
def test_a_malformed_filter_is_bad_user_input(
    gateway: Gateway, sandbox: Sandbox, flt: dict[str, Any], mentions: str
) -> None:
    error = only_error(gateway, LIST, {"first": 5, "f": flt})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert mentions in error["message"]
    assert sandbox.requests() == []


@pytest.mark.parametrize("header", ["has spaces", "x" * 300, "semi;colon", "ünïcode"])
def test_a_malformed_integration_header_is_bad_user_input(gateway: Gateway, header: str) -> None:
    headers = {"X-Integration-Id": header.encode()}
    response = gateway.post(LIST, {"first": 1}, headers=headers)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "X-Integration-Id" in error["message"]


def test_a_failing_field_nulls_only_itself(gateway: Gateway) -> None:
    body = gateway.post(
        '{ bad: interview(id: "a,b") { id } good: interviews(first: 2) { nodes { id } } }'
    ).json()
    assert body["data"]["bad"] is None
    assert len(body["data"]["good"]["nodes"]) == 2
    (error,) = body["errors"]
    assert error["path"] == ["bad"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_the_server_keeps_serving_and_logs_no_secret(gateway: Gateway, server_logs: Path) -> None:
    assert (
        len(gateway.query("{ interviews(first: 3) { nodes { id } } }")["interviews"]["nodes"]) == 3
    )
    log = (server_logs / "gateway.log").read_text()
    assert API_KEY not in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "operationName": "\\ud800"}',
        b'{"query": "{ __typename }", "extensions": {"persistedQuery": '
        b'{"version": 1, "sha256Hash": "\\udfff"}}}',
        b'{"query": "query \\ud83d { __typename }"}',
    ],
    ids=["operation-name", "apq-hash", "query"],
)
def test_a_lone_surrogate_in_the_body_is_a_400_json_error(gateway: Gateway, body: bytes) -> None:
    # JSON can spell UTF-16 halves that no UTF-8 text can hold: refused up front, never a 500.
    response = gateway.http.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["errors"][0]["message"]


# --- secrets in what Kombo says (issue 8, finding 5) ------------------------------------------

REDACTED = "[redacted]"


def echoing_body(code: str | None) -> dict[str, Any]:
    """Kombo's error body as an upstream that echoes the request's credentials would send it:
    the key after `Bearer` in the message, bare in the title and the log link."""
    return kombo_error_body(
        code,
        f"Key {API_KEY} rejected",
        f"Invalid header Authorization: Bearer {API_KEY}",
        f"https://app.kombo.dev/logs?key={API_KEY}",
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("PLATFORM.INPUT_INVALID", 400),  # a final error
        ("PLATFORM.AUTHENTICATION_INVALID", 401),
        (None, 400),  # UPSTREAM_ERROR
    ],
)
def test_a_final_error_echoing_the_key_reaches_the_client_redacted(
    gateway: Gateway, sandbox: Sandbox, code: str | None, status: int
) -> None:
    sandbox.fault(status=status, body=echoing_body(code))
    error = only_error(gateway, LIST, {"first": 5})  # Gateway.post asserts the key is absent
    assert error["message"] == f"Invalid header Authorization: Bearer {REDACTED}"
    assert error["extensions"] == {
        "code": code or "UPSTREAM_ERROR",
        "title": f"Key {REDACTED} rejected",
        "logUrl": f"https://app.kombo.dev/logs?key={REDACTED}",
        "status": status,
    }


def test_retries_used_up_echoing_the_key_reach_the_client_redacted(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=503, body=echoing_body("REMOTE.SERVICE_UNAVAILABLE"), times=ATTEMPTS)
    error = only_error(gateway, LIST, {"first": 5})
    assert error["message"].startswith(
        f"Kombo gave no usable answer: Invalid header Authorization: Bearer {REDACTED} (gave up"
    )
    assert error["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "upstreamCode": "REMOTE.SERVICE_UNAVAILABLE",
        "title": f"Key {REDACTED} rejected",
        "logUrl": f"https://app.kombo.dev/logs?key={REDACTED}",
        "status": 503,
    }


def test_a_code_echoing_the_key_reaches_the_client_redacted(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=400, body=echoing_body(f"PLATFORM.{API_KEY}"))
    error = only_error(gateway, LIST, {"first": 5})
    assert error["extensions"]["code"] == f"PLATFORM.{REDACTED}"


def test_data_holding_the_key_is_scrubbed_from_the_answer_as_a_last_check(
    gateway: Gateway, sandbox: Sandbox, server_logs: Path
) -> None:
    # Not an error text: an interview title. No code path redacts data; the response guard does.
    interview = {"id": "leaky", "changed_at": "2024-01-01T00:00:00.000Z", "title": API_KEY}
    sandbox.fault(
        status=200, body={"status": "success", "data": {"next": None, "results": [interview]}}
    )
    data = gateway.query("{ interviews(first: 1) { nodes { id komboId title } } }")
    expected = {"id": gid("leaky"), "komboId": "leaky", "title": REDACTED}
    assert data == {"interviews": {"nodes": [expected]}}
    log = (server_logs / "gateway.log").read_text()
    assert "a response to /graphql carried a secret: redacted" in log
