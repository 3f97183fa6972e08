"""The default limits let real queries through: the README's examples, GraphiQL's, the largest
pages."""

from __future__ import annotations

import pytest

from gateway.graphiql import EXAMPLE_QUERY
from tests.support.query_limits import ALL, FAN_OUT, README_EXAMPLES, assert_allowed, run


def test_the_readme_examples_are_found() -> None:
    # Fewer would mean the pattern no longer matches them, and the test below checks fewer.
    assert len(README_EXAMPLES) >= 4


@pytest.mark.parametrize("example", README_EXAMPLES, ids=lambda q: q.split("{")[0].strip() or "{")
def test_every_readme_example_passes_the_default_limits(example: str) -> None:
    outcome = run(example)
    assert outcome.executed
    assert not [e for e in outcome.errors if e["code"] == "QUERY_TOO_COMPLEX" or not e["path"]]


def test_graphiqls_default_query_passes_the_default_limits() -> None:
    assert_allowed(run(EXAMPLE_QUERY))


def test_sixty_aliased_lookups_and_nodes_of_120_ids_pass_the_default_limits() -> None:
    ids = [i.payload["id"] for i in ALL[:120]]
    aliases = " ".join(f'i{n}: interview(id: "{i}") {{ id title }}' for n, i in enumerate(ids[:60]))
    outcome = run(f"query($ids: [ID!]!) {{ {aliases} nodes(ids: $ids) {{ id }} }}", {"ids": ids})
    assert_allowed(outcome)
    assert outcome.upstream_calls == 1


def test_the_largest_single_pages_pass_the_default_limits() -> None:
    outcome = run("{ interviews(first: 250) { nodes { id users { id } application { id } } } }")
    assert_allowed(outcome)
    assert_allowed(run(FAN_OUT, {"outer": 24, "inner": 250}))  # 24 + 6,000 nodes; 25 calls
