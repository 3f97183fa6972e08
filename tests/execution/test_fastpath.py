"""The fast path takes the selections it can, gives back what it cannot, and caches its plans."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension

from bench.scenarios import INTERVIEW_ALL_FIELDS
from gateway import app as gateway_app
from gateway.config import Settings, SettingsError
from gateway.execution import executable_schema
from gateway.execution.fastpath import FastPathExecutor, FastPathStats, fast_path_executor
from gateway.schema import GatewaySchema
from gateway.schema.error_handling import ContractErrors
from gateway.schema.query import MODEL_TYPE_LIST, Query
from tests.support.fake_kombo import UPSTREAM, FakeKombo, execute, interview

EVERYTHING = INTERVIEW_ALL_FIELDS
PAGE = f"""query Page($first: Int) {{
  interviews(first: $first) {{
    edges {{ cursor node {{ {EVERYTHING} }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""


@pytest.fixture
def fast() -> GatewaySchema:
    """A fresh schema: its own plan cache and counters."""
    return executable_schema(fast_path=True)


@pytest.fixture(scope="module")
def slow() -> GatewaySchema:
    return executable_schema(fast_path=False)


def stats(schema: GatewaySchema) -> FastPathStats:
    executor = schema.execution_context_class
    assert isinstance(executor, type) and issubclass(executor, FastPathExecutor)
    return executor.cache.stats


@pytest.fixture
def field_executions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every field graphql-core executes itself (its per-field machinery), by name."""
    names: list[str] = []
    original = Executor.execute_field

    def counting(self: Executor, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        names.append(f"{parent_type.name}.{details[0].node.name.value}")
        return original(self, parent_type, source, details, *rest)

    monkeypatch.setattr(Executor, "execute_field", counting)
    yield names


def same_both_ways(
    fast: GatewaySchema,
    slow: GatewaySchema,
    document: str,
    variables: dict[str, Any] | None = None,
    upstream: FakeKombo = UPSTREAM,
    field_executions: list[str] | None = None,
) -> str:
    """The fast response, checked equal to the slow one; ``field_executions`` keeps only the
    fields graphql-core executed for the fast one."""
    fast_response = execute(fast, document, variables or {}, replace(upstream, calls=[]))
    fast_fields = list(field_executions or ())
    assert fast_response == execute(slow, document, variables or {}, replace(upstream, calls=[]))
    if field_executions is not None:
        field_executions[:] = fast_fields
    return fast_response


def test_a_page_with_every_field_is_one_projection(
    fast: GatewaySchema, slow: GatewaySchema, field_executions: list[str]
) -> None:
    response = execute(fast, PAGE, {"first": 3}, replace(UPSTREAM, calls=[]))
    # graphql-core ran the root resolver; the whole connection was one projection.
    assert field_executions == ["Query.interviews"]
    assert stats(fast) == FastPathStats(projected=1, fell_back=0, compiled=1, ineligible=0)
    field_executions.clear()
    assert response == execute(slow, PAGE, {"first": 3}, replace(UPSTREAM, calls=[]))
    assert len(field_executions) > 100


def test_plans_are_compiled_once_per_document(fast: GatewaySchema, slow: GatewaySchema) -> None:
    for first in (1, 2, 3):
        same_both_ways(fast, slow, PAGE, {"first": first})
    assert stats(fast).compiled == 1
    assert stats(fast).projected == 3


def test_include_and_skip_get_a_plan_per_condition_value(
    fast: GatewaySchema, slow: GatewaySchema
) -> None:
    document = """query($withTitle: Boolean!, $withoutUsers: Boolean!) {
      interviews(first: 2) { nodes {
        id title @include(if: $withTitle)
        users @skip(if: $withoutUsers) { id }
        ... on Interview @include(if: $withTitle) { remoteId }
      } }
    }"""
    seen = set()
    for with_title in (True, False):
        for without_users in (True, False):
            variables = {"withTitle": with_title, "withoutUsers": without_users}
            response = same_both_ways(fast, slow, document, variables)
            assert ('"title"' in response) is with_title
            assert ('"users"' in response) is not without_users
            seen.add(response)
    assert len(seen) == 4
    assert stats(fast).compiled == 4
    same_both_ways(fast, slow, document, {"withTitle": True, "withoutUsers": False})
    assert stats(fast).compiled == 4


def test_id_lookups_project_each_interview(
    fast: GatewaySchema, slow: GatewaySchema, field_executions: list[str]
) -> None:
    document = f"""{{
      one: interview(id: "iv-1") {{ {EVERYTHING} }}
      node(id: "iv-2") {{ id __typename ... on Interview {{ title }} }}
      nodes(ids: ["iv-3", "unknown", "iv-0"]) {{ __typename ...on Interview {{ {EVERYTHING} }} }}
    }}"""
    same_both_ways(fast, slow, document, field_executions=field_executions)
    assert sorted(field_executions) == ["Query.interview", "Query.node", "Query.nodes"]
    # The list of loader futures goes back to graphql-core, which projects each node.
    assert stats(fast).fell_back == 1
    assert stats(fast).projected == 2 + 3


def test_job_interviews_is_resolved_by_graphql_core_and_its_page_projected(
    fast: GatewaySchema, slow: GatewaySchema, field_executions: list[str]
) -> None:
    document = """{ interview(id: "iv-1") { id application { id job { name
        jobInterviews: interviews(first: 2) { edges { cursor node { id title } } }
    } } } }"""
    same_both_ways(fast, slow, document, field_executions=field_executions)
    assert "Job.interviews" in field_executions
    assert "InterviewEdge.cursor" not in field_executions
    assert stats(fast).ineligible == 3  # Interview, Application and Job hold an async field
    assert stats(fast).projected == 1


def test_values_off_the_happy_path_go_back_to_graphql_core(
    fast: GatewaySchema, slow: GatewaySchema
) -> None:
    upstream = FakeKombo(
        (
            interview(0),
            interview(1, changed_at=None),  # null in a non-null field: bubbles up to `one`
            interview(2, title=42),  # String coerces an int
            interview(3, canceled="no"),  # Boolean refuses a string
            interview(4, users=(None,)),  # a null item in [User!]!
        )
    )
    lookups = " ".join(f'i{i}: interview(id: "iv-{i}") {{ {EVERYTHING} }}' for i in range(5))
    response = same_both_ways(fast, slow, "{ " + lookups + " }", {}, upstream)
    assert '"i1": null' in response
    assert '"path": ["i1", "changedAt"]' in response
    assert '"title": "42"' in response
    assert "Boolean cannot represent a non boolean value" in response
    assert '"path": ["i4", "users", 0]' in response
    # i1 to i4 miss; graphql-core completes their fields, projecting the objects below them
    # again, and i4's list of users misses once more, for its null item.
    assert stats(fast).fell_back == 4 + 1


def test_an_object_of_another_class_is_type_checked_by_graphql_core(
    fast: GatewaySchema, slow: GatewaySchema
) -> None:
    class Foreign(dict):  # neither a record nor Kombo's decoded JSON (a plain dict)
        pass

    upstream = FakeKombo((interview(0), Foreign(id="iv-1")))  # type: ignore[arg-type]
    response = same_both_ways(fast, slow, "{ interviews { nodes { __typename } } }", {}, upstream)
    assert "Expected value of type 'Interview'" in response


def test_introspection_is_left_to_graphql_core(fast: GatewaySchema, slow: GatewaySchema) -> None:
    same_both_ways(fast, slow, "{ __schema { queryType { name fields { name } } } }")
    assert stats(fast).projected == 0
    assert stats(fast).compiled == 0


def test_a_resolver_middleware_turns_the_fast_path_off(slow: GatewaySchema) -> None:
    class Upper(SchemaExtension):
        def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
            result = _next(root, info, *args, **kwargs)
            return result.upper() if isinstance(result, str) else result

    schema = GatewaySchema(
        query=Query,
        types=MODEL_TYPE_LIST,
        extensions=[ContractErrors, Upper],
        execution_context_class=fast_path_executor(),
    )
    response = execute(schema, '{ interview(id: "iv-1") { title } }', {}, UPSTREAM)
    assert "INTERVIEW №1" in response
    assert stats(schema).projected == 0


def test_the_schema_is_the_same_with_or_without_the_fast_path(
    fast: GatewaySchema, slow: GatewaySchema
) -> None:
    assert str(fast) == str(slow)


def test_gateway_fast_path_false_turns_it_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_env({}).fast_path is True
    assert Settings.from_env({"GATEWAY_FAST_PATH": "false"}).fast_path is False
    with pytest.raises(SettingsError, match="GATEWAY_FAST_PATH"):
        Settings.from_env({"GATEWAY_FAST_PATH": "sometimes"})

    built: list[bool] = []
    original = gateway_app.executable_schema

    def spy(*args: Any, fast_path: bool = True, **kwargs: Any) -> GatewaySchema:
        built.append(fast_path)
        return original(*args, fast_path=fast_path, **kwargs)

    monkeypatch.setattr(gateway_app, "executable_schema", spy)
    gateway_app.create_app(Settings.from_env({"GATEWAY_FAST_PATH": "false"}))
    gateway_app.create_app(Settings.from_env({}))
    assert built == [False, True]
