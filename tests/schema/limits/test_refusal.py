"""Query limits on the app in-process over the sandbox process: a gateway configured with small
limits refuses each query just over a limit with HTTP 400 and ``QUERY_TOO_COMPLEX`` before any
upstream request (the sandbox's log stays empty), lets the one just under through, and cuts
fan-out at run time with the upstream-call budget; a gateway on the defaults lets every README
example, GraphiQL's queries and a 60-alias lookup through. A bad limit stopping ``serve`` at start
is in ``tests/e2e/test_limits.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import get_introspection_query

from gateway.graphiql import EXAMPLE_QUERY
from tests.support.clients import Gateway, Sandbox
from tests.support.in_process import in_process_gateway, upstream_env
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, ROOT
from tests.support.truth import gid, gids, job_id, visible

LIMITS = {
    "GATEWAY_MAX_DEPTH": "7",
    "GATEWAY_MAX_ALIASES": "3",
    "GATEWAY_MAX_TOKENS": "100",
    "GATEWAY_MAX_COST": "100",
    "GATEWAY_MAX_ESTIMATED_CALLS": "40",
    "GATEWAY_UPSTREAM_BUDGET": "3",
    "GATEWAY_INTROSPECTION": "false",
}
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
VISIBLE = visible(DEFAULT_INTEGRATION)


@pytest.fixture(scope="module")
def limited(sandbox_url: str) -> Iterator[Gateway]:
    """A gateway with small limits (``LIMITS``), on the session's sandbox."""
    with in_process_gateway(upstream_env(sandbox_url, **LIMITS), secrets=(API_KEY,)) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def gateway(sandbox_url: str) -> Iterator[Gateway]:
    """The session gateway's configuration (the default limits), in-process."""
    with in_process_gateway(upstream_env(sandbox_url), secrets=(API_KEY,)) as gateway:
        yield gateway


def assert_refused(
    gateway: Gateway,
    sandbox: Sandbox,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    message: str,
    code: str = "QUERY_TOO_COMPLEX",
) -> None:
    """HTTP 400, no `data`, one error with this code and message, and no upstream request."""
    response = gateway.post(query, variables)
    body = response.json()
    assert response.status_code == 400, body
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE_JSON)
    assert "data" not in body
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [(message, code)]
    assert sandbox.requests() == []


# --- each limit just under and just over, on the small limits -------------------------------

JOB_INTERVIEWS = """
query($first: Int) {
  interviews(first: $first) {
    nodes { id application { job { id interviews(first: 1) { nodes { id } } } } }
  }
}
"""


def test_depth_just_under_passes_and_just_over_is_refused_unfetched(
    limited: Gateway, sandbox: Sandbox
) -> None:
    seven = (
        "{ interviews(first: 2) { nodes { application { job {"
        " interviews(first: 1) { nodes { id } } } } } } }"
    )
    limited.query(seven)
    sandbox.clear()
    eight = seven.replace("nodes { id }", "nodes { application { id } }")
    assert_refused(
        limited, sandbox, eight, message="query depth 8 exceeds the limit of 7 (GATEWAY_MAX_DEPTH)"
    )


def test_aliases_just_under_pass_and_just_over_are_refused_unfetched(
    limited: Gateway, sandbox: Sandbox
) -> None:
    ids = [i.payload["id"] for i in VISIBLE[:4]]
    lookups = [f'i{n}: interview(id: "{i}") {{ id }}' for n, i in enumerate(ids)]
    data = limited.query("{ " + " ".join(lookups[:3]) + " }")
    assert [data[f"i{n}"]["id"] for n in range(3)] == [gid(i) for i in ids[:3]]
    sandbox.clear()
    assert_refused(
        limited,
        sandbox,
        "{ " + " ".join(lookups) + " }",
        message="alias count 4 exceeds the limit of 3 (GATEWAY_MAX_ALIASES)",
    )


def test_tokens_just_under_pass_and_just_over_are_refused_unparsed(
    limited: Gateway, sandbox: Sandbox
) -> None:
    def tokens(count: int) -> str:
        return "{ " + "__typename " * (count - 2) + "}"

    assert limited.query(tokens(100)) == {"__typename": "Query"}
    assert_refused(
        limited,
        sandbox,
        tokens(101),
        message="token count exceeds the limit of 100 (GATEWAY_MAX_TOKENS); the document was not "
        "parsed further",
    )


def test_cost_counts_first_from_variables_just_under_and_just_over(
    limited: Gateway, sandbox: Sandbox
) -> None:
    query = "query($n: Int) { interviews(first: $n) { nodes { id } } }"
    assert len(limited.query(query, {"n": 100})["interviews"]["nodes"]) == 100
    assert len(sandbox.requests()) == 1
    sandbox.clear()
    assert_refused(
        limited,
        sandbox,
        query,
        {"n": 101},
        message="estimated cost of 101 interviews exceeds the limit of 100 (GATEWAY_MAX_COST)",
    )


def test_estimated_upstream_calls_just_over_are_refused_unfetched(
    limited: Gateway, sandbox: Sandbox
) -> None:
    # 1 page of 40 interviews, then one page of each one's job: 41 calls, over 40.
    assert_refused(
        limited,
        sandbox,
        JOB_INTERVIEWS,
        {"first": 40},
        message="estimated upstream call count 41 exceeds the limit of 40 "
        "(GATEWAY_MAX_ESTIMATED_CALLS)",
    )


def test_the_budget_cuts_fan_out_the_estimate_let_through_and_the_rest_stands(
    limited: Gateway, sandbox: Sandbox
) -> None:
    # Estimated 1 + 39 = 40 calls: allowed. Really 1 + one per distinct job: the budget of 3
    # lets two jobs' interviews through and fails the others' fields.
    first = 39
    jobs = {job_id(i.payload) for i in VISIBLE[:first]} - {None}
    assert len(jobs) > 2
    response = limited.post(JOB_INTERVIEWS, {"first": first})
    body = response.json()
    assert response.status_code == 200
    assert len(sandbox.requests()) == 3

    nodes = body["data"]["interviews"]["nodes"]
    assert [n["id"] for n in nodes] == gids(VISIBLE[:first])
    fetched = {n["application"]["job"]["id"] for n in nodes if (n["application"] or {}).get("job")}
    assert len(fetched) == 2
    assert body["errors"]
    for error in body["errors"]:
        assert error["message"] == (
            "upstream-call budget of 3 exceeded (GATEWAY_UPSTREAM_BUDGET): this field needed one "
            "more call"
        )
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["path"][:2] == ["interviews", "nodes"]
        assert error["path"][3:] == ["application", "job", "interviews"]
        # Job.interviews is non-null: the job it belongs to is null, nothing else is.
        assert nodes[error["path"][2]]["application"]["job"] is None


def test_introspection_off_is_refused_unfetched_and_typename_still_works(
    limited: Gateway, sandbox: Sandbox
) -> None:
    assert_refused(
        limited,
        sandbox,
        "{ __schema { queryType { name } } }",
        message="introspection is disabled on this gateway (GATEWAY_INTROSPECTION=false): "
        "'__schema' cannot be queried",
        code="BAD_USER_INPUT",
    )
    assert limited.query("{ __typename }") == {"__typename": "Query"}


def test_a_refusal_under_application_json_is_200_without_data(
    limited: Gateway, sandbox: Sandbox
) -> None:
    response = limited.post(
        "query($n: Int) { interviews(first: $n) { nodes { id } } }",
        {"n": 250},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert sandbox.requests() == []


# --- the defaults let real queries through ---------------------------------------------------

README_EXAMPLES = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_examples_are_found() -> None:
    # Fewer would mean the pattern no longer matches them, and the test below checks fewer.
    assert len(README_EXAMPLES) >= 4


@pytest.mark.parametrize("example", README_EXAMPLES, ids=lambda q: q.split("{")[0].strip() or "{")
def test_every_readme_example_passes_the_default_limits(gateway: Gateway, example: str) -> None:
    body = gateway.post(example).json()
    assert "data" in body, body
    # The ids in the examples are placeholders: only a limit or a document error would matter.
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "QUERY_TOO_COMPLEX", error
        assert "path" in error, error


def test_graphiqls_default_query_and_introspection_pass_the_default_limits(
    gateway: Gateway,
) -> None:
    jobs = gateway.query(EXAMPLE_QUERY)["jobs"]["nodes"]
    assert len(jobs) == 5
    assert {job["status"] for job in jobs} == {"OPEN"}
    assert all(job["applications"]["nodes"] for job in jobs[:1])
    introspection = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
        one_of=True,
    )
    assert gateway.query(introspection)["__schema"]["queryType"]["name"] == "Query"


def test_sixty_aliases_and_nodes_of_120_ids_pass_the_default_limits(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    ids = [i.payload["id"] for i in VISIBLE[:120]]
    aliases = " ".join(f'i{n}: interview(id: "{i}") {{ id title }}' for n, i in enumerate(ids[:60]))
    data = gateway.query(
        f"query($ids: [ID!]!) {{ {aliases} nodes(ids: $ids) {{ id }} }}", {"ids": ids}
    )
    assert [data[f"i{n}"]["id"] for n in range(60)] == [gid(i) for i in ids[:60]]
    assert [n["id"] for n in data["nodes"]] == [gid(i) for i in ids]
    assert len(sandbox.requests()) == 1


def test_the_default_limits_refuse_250_by_250_fan_out_unfetched(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    query = """{ interviews(first: 250) {
      nodes { application { job { interviews(first: 250) { nodes { id } } } } }
    } }"""
    response = gateway.post(query)
    assert response.status_code == 400
    assert [e["message"] for e in response.json()["errors"]] == [
        "estimated cost of 62750 interviews exceeds the limit of 10000 (GATEWAY_MAX_COST)",
        "estimated upstream call count 251 exceeds the limit of 50 (GATEWAY_MAX_ESTIMATED_CALLS)",
    ]
    assert sandbox.requests() == []


def test_graphiql_page_still_loads_with_introspection_off(limited: Gateway) -> None:
    # The IDE is served either way; without introspection it only lacks docs and completion.
    response = limited.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>kombo-gateway · GraphiQL</title>" in response.text
