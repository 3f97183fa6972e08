"""`/graphql` speaks GraphQL over HTTP as its specification says (README "Routes", "Errors").

First the npm `graphql-http` audit, the contract's judge: every one of its checks passes, with
no error, no warning and no notice. Then the behaviours the audit does not reach (content
negotiation details, limits, GraphiQL, the error codes), against the same live gateway.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.truth import gid, job_id, visible

AUDIT_DIR = Path(__file__).parent / "http_audit"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TYPENAME = {"query": "{ __typename }"}
UNKNOWN_FIELD = {"query": "{ thisFieldDoesNotExist }"}


@pytest.fixture
def graphql_url(gateway_url: str) -> str:
    return f"{gateway_url}/graphql"


@pytest.fixture
def client() -> httpx.Client:
    with httpx.Client(timeout=30) as client:
        yield client


def post(client: httpx.Client, url: str, body: Any, accept: str | None = JSON) -> httpx.Response:
    headers = {"Content-Type": JSON}
    if accept is not None:
        headers["Accept"] = accept
    return client.post(url, content=json.dumps(body), headers=headers)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


def error_codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


# --- the audit -------------------------------------------------------------------------------


def test_graphql_http_audit_passes_without_errors_or_warnings(graphql_url: str) -> None:
    node = shutil.which("node")
    assert node, "node is required for the graphql-http audit"
    assert (AUDIT_DIR / "node_modules" / "graphql-http").is_dir(), "run `make audit-deps` first"

    run = subprocess.run(
        [node, str(AUDIT_DIR / "audit.mjs"), graphql_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"the audit did not run:\n{run.stderr}"
    results = json.loads(run.stdout)

    assert len(results) > 50, "the audit ran suspiciously few checks"
    failures = [r for r in results if r["status"] != "ok"]
    assert not failures, "graphql-http audit failures:\n" + "\n".join(
        f"  {r['status']:6} {r['id']} {r['name']}: {r['reason']}" for r in failures
    )


# --- media types -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.9, {JSON}", JSON),
        ("application/*", JSON),
    ],
)
def test_response_media_type_follows_accept(
    client: httpx.Client, graphql_url: str, accept: str | None, expected: str
) -> None:
    response = post(client, graphql_url, TYPENAME, accept=accept)

    assert response.status_code == 200
    assert media_type(response) == expected
    assert response.headers["content-type"].endswith("charset=utf-8")
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/plain", "application/xml", f"{JSON};q=0"])
def test_unacceptable_accept_is_406(client: httpx.Client, graphql_url: str, accept: str) -> None:
    response = post(client, graphql_url, TYPENAME, accept=accept)

    assert response.status_code == 406


def test_browser_get_gets_graphiql(client: httpx.Client, graphql_url: str) -> None:
    response = client.get(graphql_url, headers={"Accept": BROWSER_ACCEPT})

    assert response.status_code == 200
    assert media_type(response) == "text/html"
    assert "graphiql" in response.text.lower()


def test_get_accepting_anything_is_graphql_not_graphiql(
    client: httpx.Client, graphql_url: str
) -> None:
    response = client.get(graphql_url, params=TYPENAME, headers={"Accept": "*/*"})

    assert response.status_code == 200
    assert media_type(response) == JSON
    assert response.json() == {"data": {"__typename": "Query"}}


# --- requests --------------------------------------------------------------------------------


def test_get_with_variables_and_operation_name(client: httpx.Client, graphql_url: str) -> None:
    params = {
        "query": "query A { __typename } query B($first: Int) { interviews(first: $first) "
        "{ pageInfo { hasPreviousPage } } }",
        "operationName": "B",
        "variables": json.dumps({"first": 1}),
    }
    response = client.get(graphql_url, params=params, headers={"Accept": GRAPHQL_RESPONSE_JSON})

    assert response.status_code == 200
    assert response.json() == {"data": {"interviews": {"pageInfo": {"hasPreviousPage": False}}}}


def test_post_application_graphql_body_is_the_query(client: httpx.Client, graphql_url: str) -> None:
    response = client.post(
        graphql_url,
        content="{ __typename }",
        headers={"Content-Type": "application/graphql", "Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_mutation_over_get_is_405(client: httpx.Client, graphql_url: str) -> None:
    response = client.get(
        graphql_url,
        params={"query": "mutation { __typename }"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()


def test_other_methods_are_405(client: httpx.Client, graphql_url: str) -> None:
    response = client.put(graphql_url, json=TYPENAME)

    assert response.status_code == 405


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        # Form posts are CORS "simple requests": refusing them keeps cross-site forms out.
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
    ],
)
def test_unsupported_content_type_is_415(
    client: httpx.Client, graphql_url: str, content_type: str
) -> None:
    response = client.post(
        graphql_url,
        content=json.dumps(TYPENAME),
        headers={"Content-Type": content_type, "Accept": GRAPHQL_RESPONSE_JSON},
    )

    assert response.status_code == 415
    assert error_codes(response) == ["BAD_USER_INPUT"]


def test_body_over_one_mebibyte_is_413(client: httpx.Client, graphql_url: str) -> None:
    body = {**TYPENAME, "extensions": {"padding": "x" * 1_100_000}}
    response = post(client, graphql_url, body, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 413
    assert error_codes(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE_JSON])
@pytest.mark.parametrize(
    "body",
    [
        '{"query": ',
        "",
        "[]",
        '"{ __typename }"',
        '{"qeury": "{ __typename }"}',
        '{"query": 1}',
        '{"query": "{ __typename }", "variables": [1]}',
        '{"query": "{ __typename }", "variables": "{}"}',
        '{"query": "{ __typename }", "operationName": 7}',
        '{"query": "{ __typename }", "extensions": []}',
    ],
)
def test_malformed_request_is_400_with_a_graphql_error(
    client: httpx.Client, graphql_url: str, body: str, accept: str
) -> None:
    response = client.post(
        graphql_url, content=body, headers={"Content-Type": JSON, "Accept": accept}
    )

    assert response.status_code == 400
    assert media_type(response) == accept
    payload = response.json()
    assert "data" not in payload
    assert error_codes(response) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": "{ __typename }", "variables": "{not json"},
        {"query": "{ __typename }", "variables": "[]"},
    ],
)
def test_malformed_get_is_400(client: httpx.Client, graphql_url: str, params: dict) -> None:
    response = client.get(graphql_url, params=params, headers={"Accept": GRAPHQL_RESPONSE_JSON})

    assert response.status_code == 400
    assert error_codes(response) == ["BAD_USER_INPUT"]


# --- GraphQL request errors: execution never starts ------------------------------------------

REQUEST_ERRORS = {
    "parse": {"query": "{"},
    "empty document": {"query": ""},
    "validation": UNKNOWN_FIELD,
    "variable coercion": {
        "query": "query ($first: Int!) { interviews(first: $first) { nodes { id } } }",
        "variables": {"first": "ten"},
    },
    "scalar refuses a variable": {
        "query": "query ($f: InterviewFilter) { interviews(filter: $f) { nodes { id } } }",
        "variables": {"f": {"updatedAfter": "yesterday"}},
    },
    "missing variable": {
        "query": "query ($first: Int!) { interviews(first: $first) { nodes { id } } }",
    },
    "unknown operation": {"query": "query A { __typename }", "operationName": "B"},
}


@pytest.mark.parametrize("body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_request_error_is_400_without_data_for_graphql_response_json(
    client: httpx.Client, graphql_url: str, body: dict
) -> None:
    response = post(client, graphql_url, body, accept=GRAPHQL_RESPONSE_JSON)

    assert response.status_code == 400
    assert media_type(response) == GRAPHQL_RESPONSE_JSON
    payload = response.json()
    assert "data" not in payload
    assert payload["errors"]
    assert set(error_codes(response)) == {"BAD_USER_INPUT"}


@pytest.mark.parametrize("body", REQUEST_ERRORS.values(), ids=REQUEST_ERRORS.keys())
def test_request_error_is_200_without_data_for_application_json(
    client: httpx.Client, graphql_url: str, body: dict
) -> None:
    response = post(client, graphql_url, body, accept=JSON)

    assert response.status_code == 200
    assert media_type(response) == JSON
    assert "data" not in response.json()
    assert set(error_codes(response)) == {"BAD_USER_INPUT"}


def test_validation_error_says_what_is_wrong(client: httpx.Client, graphql_url: str) -> None:
    response = post(client, graphql_url, UNKNOWN_FIELD, accept=GRAPHQL_RESPONSE_JSON)

    [error] = response.json()["errors"]
    assert "thisFieldDoesNotExist" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 3}]


# --- field errors: execution happened --------------------------------------------------------


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE_JSON])
def test_field_error_keeps_partial_data_with_200(
    client: httpx.Client, graphql_url: str, accept: str
) -> None:
    # A job's interviews with an out-of-range `first` fail; the non-null field nulls its job
    # (nullable), and the rest of the interview survives.
    interview_id = _an_interview_with_a_job()
    query = (
        "query ($id: ID!) { interview(id: $id) { id application { job "
        "{ interviews(first: 0) { nodes { id } } } } } }"
    )
    response = post(
        client, graphql_url, {"query": query, "variables": {"id": interview_id}}, accept
    )

    assert response.status_code == 200
    assert media_type(response) == accept
    payload = response.json()
    assert payload["data"] == {"interview": {"id": gid(interview_id), "application": {"job": None}}}
    [error] = payload["errors"]
    assert error["path"] == ["interview", "application", "job", "interviews"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_field_error_nulling_all_data_is_still_200(client: httpx.Client, graphql_url: str) -> None:
    response = post(
        client,
        graphql_url,
        {"query": "{ interviews(first: 0) { nodes { id } } }"},
        accept=GRAPHQL_RESPONSE_JSON,
    )

    assert response.status_code == 200
    payload = response.json()
    assert payload["data"] is None  # present, and null: execution ran
    assert error_codes(response) == ["BAD_USER_INPUT"]


# --- errors before execution, from the context -----------------------------------------------


def test_context_error_answers_with_its_code_and_status(
    client: httpx.Client, graphql_url: str
) -> None:
    response = client.post(
        graphql_url,
        json=TYPENAME,
        headers={"Accept": GRAPHQL_RESPONSE_JSON, "X-Integration-Id": "not an id!"},
    )

    assert response.status_code == 400
    assert "data" not in response.json()
    assert error_codes(response) == ["BAD_USER_INPUT"]


def test_no_response_carries_a_stack_trace(client: httpx.Client, graphql_url: str) -> None:
    bodies = [*REQUEST_ERRORS.values(), {"query": "{ interviews(first: 0) { nodes { id } } }"}]
    for body in bodies:
        response = post(client, graphql_url, body, accept=GRAPHQL_RESPONSE_JSON)
        assert "Traceback" not in response.text
        assert 'File "' not in response.text


def _an_interview_with_a_job() -> str:
    """From the sandbox's own data (the session gateway's default integration): never absent."""
    with_a_job = [i.payload["id"] for i in visible(DEFAULT_INTEGRATION) if job_id(i.payload)]
    assert with_a_job, f"the sandbox has no interview with a job in {DEFAULT_INTEGRATION}"
    return with_a_job[0]
