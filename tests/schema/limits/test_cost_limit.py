"""The cost limits: each just under and just over its bound, refused before any upstream call."""

from __future__ import annotations

from gateway.execution import executable_schema
from gateway.schema import QueryLimits
from tests.support.query_limits import FAN_OUT, assert_allowed, assert_refused, run


def test_cost_just_under_and_just_over_the_limit_with_variables() -> None:
    schema = executable_schema(QueryLimits(max_cost=24, max_estimated_calls=1_000))
    assert_allowed(run(FAN_OUT, {"outer": 4, "inner": 5}, schema=schema))  # 4 + 20 = 24
    assert_refused(
        run(FAN_OUT, {"outer": 4, "inner": 6}, schema=schema),  # 4 + 24 = 28
        "estimated cost of 28 interviews exceeds the limit of 24 (GATEWAY_MAX_COST)",
    )


def test_estimated_calls_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_estimated_calls=5))
    assert_allowed(run(FAN_OUT, {"outer": 4, "inner": 1}, schema=schema))  # 1 + 4 calls
    assert_refused(
        run(FAN_OUT, {"outer": 5, "inner": 1}, schema=schema),
        "estimated upstream call count 6 exceeds the limit of 5 (GATEWAY_MAX_ESTIMATED_CALLS)",
    )


def test_both_cost_limits_report_together() -> None:
    outcome = run(FAN_OUT, {"outer": 250, "inner": 250})
    assert not outcome.executed and outcome.upstream_calls == 0
    assert [e["message"] for e in outcome.errors] == [
        "estimated cost of 62750 interviews exceeds the limit of 10000 (GATEWAY_MAX_COST)",
        "estimated upstream call count 251 exceeds the limit of 50 (GATEWAY_MAX_ESTIMATED_CALLS)",
    ]


def test_bad_variables_are_reported_by_execution_not_the_estimate() -> None:
    outcome = run(FAN_OUT, {"outer": "many"})
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]
    assert outcome.upstream_calls == 0
