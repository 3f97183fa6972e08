"""The introspection switch."""

from __future__ import annotations

from gateway.execution import executable_schema
from gateway.schema import QueryLimits
from tests.support.query_limits import GRAPHIQL_INTROSPECTION, assert_allowed, run


def test_introspection_is_on_by_default_and_graphiqls_query_passes() -> None:
    outcome = run(GRAPHIQL_INTROSPECTION)
    assert_allowed(outcome)
    assert outcome.data is not None and outcome.data["__schema"]["queryType"]["name"] == "Query"


def test_introspection_off_refuses_schema_and_type_but_not_typename() -> None:
    schema = executable_schema(QueryLimits(introspection=False))
    outcome = run(GRAPHIQL_INTROSPECTION, schema=schema)
    assert not outcome.executed and outcome.upstream_calls == 0
    assert [(e["message"], e["code"]) for e in outcome.errors] == [
        (
            "introspection is disabled on this gateway (GATEWAY_INTROSPECTION=false): "
            "'__schema' cannot be queried",
            "BAD_USER_INPUT",
        )
    ]
    assert run('{ __type(name: "Job") { name } }', schema=schema).errors[0]["code"] == (
        "BAD_USER_INPUT"
    )
    assert_allowed(
        run("{ __typename interviews(first: 1) { nodes { __typename id } } }", schema=schema)
    )
