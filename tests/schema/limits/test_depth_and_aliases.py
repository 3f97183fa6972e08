"""Depth and aliases: each just under and just over its bound, fragments measured once."""

from __future__ import annotations

import time

import pytest
from graphql import parse

from gateway.execution import executable_schema
from gateway.schema import QueryLimits
from gateway.schema.limits import (
    Shape,
    measure_operations,
)
from tests.support.query_limits import (
    ALL,
    GRAPHIQL_INTROSPECTION,
    assert_allowed,
    assert_refused,
    nested,
    run,
)


@pytest.mark.parametrize("levels", [1, 3, 7, 12, 13])
def test_depth_counts_the_fields_on_the_longest_path(levels: int) -> None:
    ((shape),) = measure_operations(parse(nested(levels))).values()
    assert shape.depth == levels


def test_depth_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_depth=4))
    assert_allowed(run(nested(4), schema=schema))
    assert_refused(
        run(nested(5), schema=schema), "query depth 5 exceeds the limit of 4 (GATEWAY_MAX_DEPTH)"
    )


def test_depth_counts_through_fragments_and_inline_fragments() -> None:
    document = """
    query Deep { interviews { ...Conn } }
    fragment Conn on InterviewConnection { nodes { ... on Interview { application { ...App } } } }
    fragment App on Application { job { id } candidate { emailAddresses { emailAddress } } }
    """
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 6  # interviews nodes application candidate emailAddresses emailAddress
    schema = executable_schema(QueryLimits(max_depth=5))
    assert_refused(
        run(document, schema=schema), "query depth 6 exceeds the limit of 5 (GATEWAY_MAX_DEPTH)"
    )


def test_introspection_fields_do_not_count_towards_depth() -> None:
    ((shape),) = measure_operations(parse(GRAPHIQL_INTROSPECTION)).values()
    assert shape == Shape(depth=0, aliases=0)
    document = '{ __typename interview(id: "x") { id } __type(name: "Job") { ' + (
        "ofType { " * 12 + "name" + " }" * 12 + " } }"
    )
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 2


def test_fragment_cycles_and_long_chains_are_measured_without_recursion() -> None:
    chain = "\n".join(f"fragment F{i} on Interview {{ ...F{i + 1} }}" for i in range(3000))
    document = '{ interview(id: "x") { ...F0 } }\n' + chain + "\nfragment F3000 on Interview { id }"
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 2
    cycle = '{ interview(id: "x") { ...A } } fragment A on Interview { id ...B } '
    cycle += "fragment B on Interview { application { id } ...A }"
    ((shape),) = measure_operations(parse(cycle)).values()
    assert shape.depth == 3


def aliased_lookups(count: int) -> str:
    ids = [i.payload["id"] for i in ALL[:count]]
    return "{ " + " ".join(f'i{n}: interview(id: "{i}") {{ id }}' for n, i in enumerate(ids)) + " }"


def test_aliases_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_aliases=5))
    allowed = run(aliased_lookups(5), schema=schema)
    assert_allowed(allowed)
    assert allowed.upstream_calls == 1  # the five lookups are one batch
    assert_refused(
        run(aliased_lookups(6), schema=schema),
        "alias count 6 exceeds the limit of 5 (GATEWAY_MAX_ALIASES)",
    )


def test_aliases_in_a_fragment_count_once_per_spread() -> None:
    document = """
    { a: interview(id: "x") { ...F } b: interview(id: "y") { ...F } }
    fragment F on Interview { t: title s: startingAt }
    """
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.aliases == 6
    assert_refused(
        run(document, schema=executable_schema(QueryLimits(max_aliases=5))),
        "alias count 6 exceeds the limit of 5 (GATEWAY_MAX_ALIASES)",
    )


def test_fragments_that_double_at_every_level_are_refused_quickly() -> None:
    # Strawberry's own limiters walk such fragments 2^n times; ours measure each fragment once.
    levels = 60
    fragments = "\n".join(
        f"fragment D{i} on Interview {{ ...D{i + 1} ...D{i + 1} }}" for i in range(levels)
    )
    document = '{ interview(id: "x") { ...D0 } }\n' + fragments
    document += f"\nfragment D{levels} on Interview {{ t: title }}"
    started = time.perf_counter()
    outcome = run(document)
    assert time.perf_counter() - started < 1
    assert_refused(
        outcome, "alias count over 1000000000 exceeds the limit of 100 (GATEWAY_MAX_ALIASES)"
    )
