"""A failure fails only the fields that need it (CONTRACT 1.4, 1.5), end to end.

A model the integration lacks (``INTEGRATION.MODEL_NOT_AVAILABLE``), or an upstream fault on the
one endpoint a completion needs, nulls the fields that needed it, each with Kombo's code, title,
logUrl and status, and the rest of the response answers. A null reaches past a field only where
the schema makes the field non-null: it stops at the nearest nullable ancestor.

The sandbox's integrations never inline a record of a model they lack (``workday:initech`` has no
offers, and no application carries any), so a completion that meets MODEL_NOT_AVAILABLE is staged
with the sandbox's fault queue: the page is answered normally (a pass-through fault), the next
request, the completion's ``ids=`` call, gets the 403.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG
from gateway.sandbox import MODEL_NOT_AVAILABLE_INTEGRATION, records_for
from gateway.schema.ids import global_id
from tests.support.clients import Gateway, Sandbox
from tests.support.kombo_bodies import kombo_error_body
from tests.support.record_truth import by_id, upstream_calls, visible
from tests.support.servers import DEFAULT_INTEGRATION

ACME = DEFAULT_INTEGRATION
WORKDAY = "workday:initech"
LOG_URL = "https://app.kombo.dev/my-prod/logs?interactionId=424242"
NOT_AVAILABLE = "INTEGRATION.MODEL_NOT_AVAILABLE"
NOT_AVAILABLE_TITLE = "This data model isn't supported for the selected integration."
ATTEMPTS = 1 + 3  # README: GATEWAY_UPSTREAM_RETRIES defaults to 3


def body(gateway: Gateway, query: str, variables: dict[str, Any] | None = None, **kw: Any):
    response = gateway.post(query, variables, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def answer_normally_then(sandbox: Sandbox, **fault: Any) -> None:
    """The next upstream request answers normally; the one after gets ``fault``."""
    sandbox.fault(delay=0.001)
    sandbox.fault(**fault)


# -- a model the integration lacks ------------------------------------------------------------


def test_lookups_of_models_the_integration_lacks_fail_alone(gateway: Gateway) -> None:
    applications = visible(WORKDAY, "Application")[:3]
    application = global_id("Application", applications[0]["id"])
    offer, role = global_id("Offer", "someOfferId0000"), global_id("Role", "someRoleId00000")
    result = body(
        gateway,
        """query($offer: ID!, $role: ID!, $ids: [ID!]!) {
             applications(first: 3) { nodes { komboId outcome } }
             offer(id: $offer) { id status }
             role(id: $role) { id }
             node(id: $offer) { id }
             nodes(ids: $ids) { __typename id }
           }""",
        {"offer": offer, "role": role, "ids": [application, offer, role]},
        headers={"X-Integration-Id": WORKDAY},
    )
    data = result["data"]
    assert data["applications"]["nodes"] == [
        {"komboId": a["id"], "outcome": a["outcome"]} for a in applications
    ]
    assert data["offer"] is None and data["role"] is None and data["node"] is None
    assert data["nodes"] == [{"__typename": "Application", "id": application}, None, None]
    failed = sorted(tuple(e["path"]) for e in result["errors"])
    assert failed == sorted([("offer",), ("role",), ("node",), ("nodes", 1), ("nodes", 2)])
    for error in result["errors"]:
        assert error["extensions"]["code"] == NOT_AVAILABLE
        assert error["extensions"]["title"] == NOT_AVAILABLE_TITLE
        assert error["extensions"]["status"] == 403
        assert error["extensions"]["logUrl"].startswith("https://app.kombo.dev/")
        is_role = error["path"] in (["role"], ["nodes", 2])
        assert ('"roles"' if is_role else '"offers"') in error["message"], error


@pytest.mark.parametrize("plural", ["offers", "roles"])
def test_a_connection_of_a_model_the_integration_lacks_fails_with_kombos_error(
    gateway: Gateway, plural: str
) -> None:
    result = body(
        gateway,
        f"{{ {plural}(first: 5) {{ nodes {{ id }} }} }}",
        headers={"X-Integration-Id": WORKDAY},
    )
    (error,) = result["errors"]
    assert error["path"] == [plural]
    assert error["extensions"]["code"] == NOT_AVAILABLE
    assert error["extensions"]["status"] == 403
    # A root connection is non-null: its null reaches `data`, as the schema says.
    assert result["data"] is None


def test_job_interviews_without_the_interviews_model_fail_only_where_the_schema_allows(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    """``Job.interviews`` is a non-null connection, so its null goes up to the nearest nullable
    field: here the ``job`` lookup that asked for it. Its sibling lookup of the same job, and a
    page of applications, answer."""
    jobs = visible(MODEL_NOT_AVAILABLE_INTEGRATION, "Job")
    job = jobs[0]
    result = body(
        gateway,
        """query($id: ID!) {
             withInterviews: job(id: $id) { komboId interviews(first: 5) { nodes { id } } }
             plain: job(id: $id) { komboId name }
             applications(first: 2) { nodes { komboId } }
           }""",
        {"id": job["id"]},
        headers={"X-Integration-Id": MODEL_NOT_AVAILABLE_INTEGRATION},
    )
    assert result["data"]["withInterviews"] is None
    assert result["data"]["plain"] == {"komboId": job["id"], "name": job["name"]}
    assert result["data"]["applications"]["nodes"] == [
        {"komboId": a["id"]} for a in visible(MODEL_NOT_AVAILABLE_INTEGRATION, "Application")[:2]
    ]
    (error,) = result["errors"]
    assert error["path"] == ["withInterviews", "interviews"]
    assert error["extensions"]["code"] == NOT_AVAILABLE
    assert error["extensions"]["title"] == NOT_AVAILABLE_TITLE
    assert error["extensions"]["status"] == 403
    paths = sorted(path for path, _ in upstream_calls(sandbox.requests()))
    assert paths == ["/ats/applications", "/ats/interviews", "/ats/jobs"]


def test_the_other_fields_of_jobs_answer_for_an_integration_without_interviews(
    gateway: Gateway,
) -> None:
    """Without asking ``Job.interviews`` nothing needs the missing model."""
    jobs = visible(MODEL_NOT_AVAILABLE_INTEGRATION, "Job")
    data = gateway.query(
        "{ jobs(first: 20) { nodes { komboId name "
        "applications(first: 1) { nodes { komboId } } } } }",
        headers={"X-Integration-Id": MODEL_NOT_AVAILABLE_INTEGRATION},
    )
    assert [n["komboId"] for n in data["jobs"]["nodes"]] == [j["id"] for j in jobs]


# -- a completion whose endpoint fails ----------------------------------------------------------


def applications_with_offers() -> list[dict[str, Any]]:
    return visible(ACME, "Application")[:100]


OFFERS_QUERY = """{ applications(first: 100) { nodes { komboId outcome
  offers { komboId status employmentStartDate } } } }"""


def test_completing_inline_offers_against_model_not_available_fails_only_those_fields(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    answer_normally_then(
        sandbox,
        status=403,
        body=kombo_error_body(NOT_AVAILABLE, NOT_AVAILABLE_TITLE, "No offers here.", LOG_URL),
    )
    result = body(gateway, OFFERS_QUERY)
    parents = applications_with_offers()
    nodes = result["data"]["applications"]["nodes"]
    expected_errors = []
    for n, (node, parent) in enumerate(zip(nodes, parents, strict=True)):
        assert node["komboId"] == parent["id"] and node["outcome"] == parent["outcome"]
        assert node["offers"] == [
            {"komboId": o["id"], "status": o["status"], "employmentStartDate": None}
            for o in parent["offers"]
        ]
        expected_errors += [
            ["applications", "nodes", n, "offers", k, "employmentStartDate"]
            for k in range(len(parent["offers"]))
        ]
    assert expected_errors, "some of the first 100 applications inline offers"
    assert sorted(e["path"] for e in result["errors"]) == sorted(expected_errors)
    for error in result["errors"]:
        assert error["message"] == "No offers here."
        assert error["extensions"] == {
            "code": NOT_AVAILABLE,
            "title": NOT_AVAILABLE_TITLE,
            "logUrl": LOG_URL,
            "status": 403,
        }
    calls = upstream_calls(sandbox.requests())
    assert [path for path, _ in calls] == ["/ats/applications", "/ats/offers"]


ISSUE_QUERY = """{ interviews(first: 100) { nodes { komboId title application { komboId outcome
  currentStage { name } candidate { firstName } job { name } } } } }"""


@pytest.mark.parametrize(
    ("status", "code", "times", "expected_code"),
    [
        (500, "PLATFORM.UNKNOWN_ERROR", 1, "PLATFORM.UNKNOWN_ERROR"),
        (400, None, 1, "UPSTREAM_ERROR"),
        (503, "REMOTE.SERVICE_UNAVAILABLE", ATTEMPTS, "UPSTREAM_UNAVAILABLE"),
    ],
)
def test_a_fault_on_the_completing_endpoint_nulls_only_the_completed_fields(
    gateway: Gateway,
    sandbox: Sandbox,
    status: int,
    code: str | None,
    times: int,
    expected_code: str,
) -> None:
    answer_normally_then(
        sandbox,
        status=status,
        body=kombo_error_body(code, "Broken", "The applications endpoint broke.", LOG_URL),
        times=times,
    )
    result = body(gateway, ISSUE_QUERY)
    parents = visible(ACME, "Interview")[:100]
    expected_errors = []
    nodes = result["data"]["interviews"]["nodes"]
    for n, (node, parent) in enumerate(zip(nodes, parents, strict=True)):
        assert node["komboId"] == parent["id"] and node["title"] == parent["title"]
        inline = parent["application"]
        if inline is None:
            assert node["application"] is None
            continue
        assert node["application"] == {
            "komboId": inline["id"],
            "outcome": inline["outcome"],
            "currentStage": None,
            "candidate": inline["candidate"] and {"firstName": inline["candidate"]["first_name"]},
            "job": inline["job"] and {"name": inline["job"]["name"]},
        }
        expected_errors.append(["interviews", "nodes", n, "application", "currentStage"])
    assert sorted(e["path"] for e in result["errors"]) == sorted(expected_errors)
    assert {e["extensions"]["code"] for e in result["errors"]} == {expected_code}
    for error in result["errors"]:
        assert error["extensions"]["logUrl"] == LOG_URL
        assert error["extensions"]["status"] == status
    paths = [path for path, _ in upstream_calls(sandbox.requests())]
    assert paths == ["/ats/interviews"] + ["/ats/applications"] * times


# -- an enum value outside its closed enum ------------------------------------------------------


def log_lines(log: Path, needle: str, at_least: int = 0) -> list[str]:
    """The lines of ``log`` holding ``needle`` (waiting up to 2 s for ``at_least`` of them)."""
    deadline = time.monotonic() + 2
    while True:
        lines = [line for line in log.read_text(errors="replace").splitlines() if needle in line]
        if len(lines) >= at_least or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_an_enum_value_outside_its_enum_is_null_and_logged_once(
    gateway: Gateway, sandbox: Sandbox, server_logs: Path
) -> None:
    users = [dict(r.payload) for r in records_for(ACME, "User")[:3]]
    strange = f"SUSPENDED_{uuid.uuid4().hex[:8].upper()}"
    users[0]["status"] = strange
    page = {"status": "success", "data": {"next": None, "results": users}}
    query = "{ users(first: 3) { nodes { komboId status firstName } } }"
    for _ in range(2):
        sandbox.fault(status=200, body=page)
        data = gateway.query(query)
        assert data["users"]["nodes"] == [
            {
                "komboId": u["id"],
                "status": None if n == 0 else u["status"],
                "firstName": u["first_name"],
            }
            for n, u in enumerate(users)
        ]
    lines = log_lines(server_logs / "gateway.log", strange, at_least=1)
    assert len(lines) == 1, lines
    assert "exposed as null" in lines[0]


def test_an_enum_value_outside_its_enum_in_a_completed_record_is_null(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    """The completion's answer carries the unknown value: only that field is null."""
    job = next(j for j in visible(ACME, "Job") if j["hiring_team"])
    member = job["hiring_team"][0]
    whole = dict(by_id(ACME, "User")[member["id"]])
    whole["status"] = "ON_SABBATICAL"
    answer_normally_then(
        sandbox, status=200, body={"status": "success", "data": {"next": None, "results": [whole]}}
    )
    data = gateway.query(
        "query($f: JobFilter) { jobs(first: 1, filter: $f) { nodes { hiringTeam { komboId "
        "firstName status remoteId } } } }",
        {"f": {"ids": [job["id"]]}},
    )
    (node,) = data["jobs"]["nodes"]
    first = node["hiringTeam"][0]
    assert first == {
        "komboId": member["id"],
        "firstName": member["first_name"],
        "status": None,
        "remoteId": member["remote_id"],
    }
    assert CATALOG["User"].path in [path for path, _ in upstream_calls(sandbox.requests())]
