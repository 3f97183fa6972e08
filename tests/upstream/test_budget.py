"""The run-time upstream-call budget: the field over budget fails, the rest of the response
stands."""

from __future__ import annotations

import pytest

from gateway.upstream import UpstreamBudget
from tests.support.query_limits import ALL, assert_allowed, run

JOBS_INTERVIEWS = """
query($first: Int) {
  interviews(first: $first) {
    nodes { id application { job { id interviews(first: 1) { nodes { id } } } } }
  }
}
"""


def distinct_jobs(count: int) -> int:
    visible = [i.payload for i in ALL if i.payload["remote_deleted_at"] is None][:count]
    return len({(p.get("application") or {}).get("job", {}).get("id") for p in visible} - {None})


def test_upstream_calls_just_within_the_budget() -> None:
    first = 10
    calls = 1 + distinct_jobs(first)  # the same job's interviews are fetched once
    outcome = run(JOBS_INTERVIEWS, {"first": first}, budget=calls)
    assert_allowed(outcome)
    assert outcome.upstream_calls == calls


def test_the_field_over_budget_fails_and_the_rest_of_the_response_stands() -> None:
    first = 10
    budget = 4
    outcome = run(JOBS_INTERVIEWS, {"first": first}, budget=budget)
    assert outcome.executed
    assert outcome.upstream_calls == budget
    assert outcome.data is not None
    nodes = outcome.data["interviews"]["nodes"]
    assert len(nodes) == first and all(n["id"] for n in nodes)
    failed = {tuple(e["path"]) for e in outcome.errors}
    assert failed and all(
        e
        == {
            "message": "upstream-call budget of 4 exceeded (GATEWAY_UPSTREAM_BUDGET): this field "
            "needed one more call",
            "code": "QUERY_TOO_COMPLEX",
            "path": e["path"],
        }
        for e in outcome.errors
    )
    for index, node in enumerate(nodes):
        job_path = ("interviews", "nodes", index, "application", "job", "interviews")
        job = (node["application"] or {}).get("job")
        if job_path in failed:
            assert job is None  # Job.interviews is non-null: its job is nulled
        elif node["application"] and job is not None:
            assert job["interviews"]["nodes"]


def test_an_id_batch_over_budget_fails_its_lookups() -> None:
    document = '{ interviews(first: 1) { nodes { id } } a: interview(id: "x") { id } }'
    outcome = run(document, budget=1)
    assert outcome.upstream_calls == 1
    assert outcome.data is not None
    assert outcome.data["a"] is None
    assert [(e["code"], e["path"]) for e in outcome.errors] in (
        [("QUERY_TOO_COMPLEX", ["a"])],
        [("QUERY_TOO_COMPLEX", ["interviews"])],
    )


def test_the_budget_counts_calls_and_refuses_past_its_limit() -> None:
    budget = UpstreamBudget(2)
    budget.spend()
    budget.spend()
    with pytest.raises(Exception, match=r"upstream-call budget of 2 exceeded") as raised:
        budget.spend()
    assert getattr(raised.value, "code", None) == "QUERY_TOO_COMPLEX"
    assert budget.spent == 2
