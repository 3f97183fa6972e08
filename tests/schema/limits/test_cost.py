"""The cost estimate as documented: connections multiply, id lookups batch, fields collected as
execution collects them; variable coercion stops at the first error."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from graphql import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.kombo.catalog import CATALOG
from gateway.schema.limits import (
    COMPLETIONS,
    CONNECTION_FIELDS,
    ID_LOOKUPS,
    REFERENCES,
    CostEstimate,
    cost,
    estimate_cost,
)
from tests.support.query_limits import DEFAULT_SCHEMA, FAN_OUT, FILTER_QUERY, run


def estimate(document: str, variables: dict[str, Any] | None = None) -> CostEstimate | None:
    return estimate_cost(DEFAULT_SCHEMA._schema, parse(document), None, variables)


def test_first_multiplies_through_nested_connections() -> None:
    # The docstring's example: 250 + 250 * 250 interviews; 1 + 250 upstream calls.
    assert estimate(FAN_OUT, {"outer": 250, "inner": 250}) == CostEstimate(62_750, 251)
    assert estimate(FAN_OUT, {"outer": 3, "inner": 7}) == CostEstimate(3 + 21, 1 + 3)


def test_first_defaults_to_100_and_literals_count_like_variables() -> None:
    assert estimate(FAN_OUT) == CostEstimate(100 + 100 * 100, 101)
    literal = FAN_OUT.replace("first: $outer", "first: 2").replace("first: $inner", "first: 5")
    assert estimate(literal) == CostEstimate(2 + 10, 3)
    with_default = FAN_OUT.replace("$outer: Int", "$outer: Int = 4")
    assert estimate(with_default, {"inner": 1}) == CostEstimate(4 + 4, 5)


def test_edges_and_nodes_of_one_connection_are_one_fetch() -> None:
    document = """{ interviews(first: 10) {
      edges { node { application { job { interviews(first: 2) { nodes { id } } } } } }
      nodes { id }
      pageInfo { endCursor }
    } }"""
    # edges and nodes are two lists of the same 10 interviews: both are counted (an upper bound).
    assert estimate(document) == CostEstimate(10 + 10 * 2, 1 + 10)


def test_id_lookups_cost_one_node_per_id_and_one_call_per_250_ids() -> None:
    ids = [f"id{n}" for n in range(300)]
    document = """query($ids: [ID!]!) {
      a: interview(id: "x") { id }
      b: node(id: "y") { id }
      nodes(ids: $ids) { id }
    }"""
    assert estimate(document, {"ids": ids}) == CostEstimate(302, 2)
    assert estimate(document, {"ids": ids[:10]}) == CostEstimate(12, 1)
    # Global ids of other types are other models' batches: one call each.
    mixed = ["gid://kombo/Job/1", "gid://kombo/Tag/1", "gid://kombo/Job/2", "bare"]
    assert estimate(document, {"ids": mixed}) == CostEstimate(2 + 4, 3)
    nested_job = (
        '{ interview(id: "x") { application { job { interviews(first: 10) { nodes { id } } } } } }'
    )
    assert estimate(nested_job) == CostEstimate(1 + 10, 1 + 1)


def test_fields_merged_by_execution_are_counted_once() -> None:
    document = """
    { interviews(first: 10) { nodes { id } } ...More }
    fragment More on Query { interviews(first: 10) { pageInfo { hasNextPage } } }
    """
    assert estimate(document) == CostEstimate(10, 1)


def test_skipped_fields_cost_nothing() -> None:
    document = """query($full: Boolean!) {
      interviews(first: 5) {
        nodes { application { job @include(if: $full) { interviews(first: 50) { nodes { id } } } } }
      }
    }"""
    assert estimate(document, {"full": True}) == CostEstimate(5 + 250, 6)
    assert estimate(document, {"full": False}) == CostEstimate(5, 1)


def test_an_out_of_range_first_is_left_to_the_resolver() -> None:
    assert estimate("{ interviews(first: 100000) { nodes { id } } }") == CostEstimate(0, 1)
    outcome = run("{ interviews(first: 100000) { nodes { id } } }")
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]
    assert outcome.upstream_calls == 0


def test_every_connection_and_id_lookup_of_the_schema_is_costed() -> None:
    """A new connection or lookup field must be added to the estimate's tables."""
    graphql_schema = DEFAULT_SCHEMA._schema
    connections = set()
    lookups = set()
    for type_name, graphql_type in graphql_schema.type_map.items():
        for field_name, field_def in getattr(graphql_type, "fields", {}).items():
            named = str(field_def.type).strip("[]!")
            if type_name.startswith("__"):
                continue
            if named.endswith("Connection"):
                connections.add((type_name, field_name))
            if type_name == "Query" and named in {*(m.name for m in CATALOG), "Node"}:
                lookups.add((type_name, field_name))
    assert connections == CONNECTION_FIELDS
    assert lookups == set(ID_LOOKUPS)
    assert len(CONNECTION_FIELDS) == 10 + 3  # ten roots; Job.interviews/applications/candidates


def test_every_reference_and_inline_record_of_the_schema_is_costed() -> None:
    """Every object field of a model type that holds another model's records either comes in
    the payload (COMPLETIONS: free when the selection stays inline) or is looked up
    (REFERENCES); none escapes the estimate."""
    graphql_schema = DEFAULT_SCHEMA._schema
    models = {m.name for m in CATALOG}
    found = set()
    for name in models:
        for field_name, field_def in graphql_schema.type_map[name].fields.items():  # type: ignore[union-attr]
            named = str(field_def.type).strip("[]!")
            if named in models and (name, field_name) not in CONNECTION_FIELDS:
                found.add((name, field_name))
    assert found == set(COMPLETIONS) | set(REFERENCES)


def test_a_selection_beyond_the_inline_fields_costs_one_batch_per_model() -> None:
    inline_only = """{ interviews(first: 100) { nodes {
      title application { outcome candidate { firstName emailAddresses { emailAddress } }
      job { name } } users { firstName } } } }"""
    assert estimate(inline_only) == CostEstimate(100, 1)
    # The issue's example: interviews, applications, candidates and jobs, never 1 + 100 + ...
    completing = """{ interviews(first: 100) { nodes { application {
      currentStage { name }
      candidate { phoneNumbers { phoneNumber } tags { name } }
      job { status } } } } }"""
    assert estimate(completing) == CostEstimate(100 + 300, 4)
    # 300 parents: two batches per model (250 + 50).
    assert estimate(completing.replace("100", "250")) == CostEstimate(250 + 750, 1 + 3)


def test_references_are_batched_lookups() -> None:
    assert estimate("{ interviews(first: 30) { nodes { stage { name } } } }") == CostEstimate(
        30 + 30, 2
    )


def test_a_recruiter_dashboard_fits_the_default_limits() -> None:
    """A page of 25 jobs, each with its first 5 applications and their candidates: 27 calls
    (25 nested pages), within GATEWAY_MAX_ESTIMATED_CALLS' default; and it runs."""
    dashboard = """query Dashboard { jobs(first: 25) { nodes { name status
      applications(first: 5) { nodes { outcome currentStage { name }
        candidate { firstName lastName phoneNumbers { phoneNumber } } } } } } }"""
    assert estimate(dashboard) == CostEstimate(25 + 125 + 125, 27)
    outcome = run(dashboard)
    assert outcome.executed
    assert "QUERY_TOO_COMPLEX" not in {e["code"] for e in outcome.errors}


def test_the_estimate_stops_coercing_at_the_first_error() -> None:
    # 100,000 unknown keys: graphql-core prints the whole object (a list of its items) into
    # each error, one error per key; without the bound this took minutes.
    variables = {"f": {f"k{i}": 0 for i in range(100_000)}}
    started = time.process_time()
    estimate = estimate_cost(DEFAULT_SCHEMA._schema, parse(FILTER_QUERY), None, variables)
    assert estimate is None
    assert time.process_time() - started < 1.0


def test_execution_stops_coercing_at_the_first_error() -> None:
    variables = {"f": {f"k{i}": 0 for i in range(20_000)}}
    result = asyncio.run(DEFAULT_SCHEMA.execute(FILTER_QUERY, variable_values=variables))
    messages = [error.message for error in result.errors or ()]
    assert len(messages) == 2, messages[:3]
    assert "unknown field 'k0'" in messages[0]
    assert messages[1].startswith("Too many errors processing variables")


# --- the walk is cached by the values it reads (issue 12) ----------------------------------------

CACHED_DOCUMENT = parse(
    """query($first: Int, $inner: Int, $filter: InterviewFilter, $ids: [ID!]!, $more: Boolean!) {
      interviews(first: $first, filter: $filter) {
        nodes { job { interviews(first: $inner) { nodes { id } } } }
      }
      nodes(ids: $ids) @include(if: $more) { id }
    }"""
)


def _uncached(variables: dict[str, Any]) -> CostEstimate | None:
    cost._walks.clear()
    cost._walk_variables.clear()
    return estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, variables)


@settings(max_examples=200, deadline=None)
@given(
    first=st.integers(-1, 260),
    inner=st.none() | st.integers(1, 250),
    filter_=st.none()
    | st.fixed_dictionaries(
        {"updatedAfter": st.sampled_from(["2024-01-01T00:00:00.000Z", "2025-06-01T12:00:00+02:00"])}
    ),
    ids=st.lists(
        st.sampled_from(["a", "b", "gid://kombo/Job/x", "gid://kombo/Nope/y"]), max_size=3
    ),
    more=st.booleans(),
)
def test_a_cached_estimate_is_the_estimate_computed_afresh(
    first: int, inner: int | None, filter_: dict[str, str] | None, ids: list[str], more: bool
) -> None:
    variables = {"first": first, "inner": inner, "filter": filter_, "ids": ids, "more": more}
    warmed = estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, variables)
    again = estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, variables)
    assert warmed == again == _uncached(variables)


def test_another_filter_reuses_the_estimate_and_another_first_does_not() -> None:
    base = {"first": 10, "inner": 2, "ids": ["a"], "more": True}
    one = estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, {**base, "filter": None})
    other_filter = {**base, "filter": {"updatedAfter": "2024-01-01T00:00:00.000Z"}}
    assert estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, other_filter) is one
    other_first = estimate_cost(
        DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, {**base, "first": 11}
    )
    assert other_first is not one and other_first != one


def test_bad_variables_are_still_left_to_execution_when_an_estimate_is_cached() -> None:
    good = {"first": 10, "inner": 2, "ids": [], "more": False, "filter": None}
    assert estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, good) is not None
    bad = {**good, "filter": {"updatedAfter": "not a date"}}
    assert estimate_cost(DEFAULT_SCHEMA._schema, CACHED_DOCUMENT, None, bad) is None
