"""Relay paging through every sandbox interview, over real HTTP: complete, ordered, resumable.

Items are told apart by their global ``id`` (what a Relay store keys them by); each edge's
``komboId`` is checked against it, so the ids Kombo knows them by come through too."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from gateway.schema.connection import MAX_STITCHED_PAGES
from tests.support.clients import Gateway, Sandbox
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.truth import gid, gids, visible

PAGE = """
query Page($first: Int, $after: String) {
  interviews(first: $first, after: $after) {
    edges { cursor node { id komboId } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def page(gateway: Gateway, first: int, after: str | None) -> dict[str, Any]:
    return dict(gateway.query(PAGE, {"first": first, "after": after})["interviews"])


def walk(gateway: Gateway, firsts: itertools.cycle[int] | list[int]) -> tuple[list[str], int]:
    """Page to the end with `after: endCursor`, `first` taken in turn from `firsts`."""
    seen: list[str] = []
    after = None
    for pages, first in enumerate(itertools.cycle(firsts), start=1):
        connection = page(gateway, first, after)
        edges = connection["edges"]
        info = connection["pageInfo"]
        assert len(edges) <= first
        assert [e["node"]["id"] for e in edges] == [n["id"] for n in connection["nodes"]]
        assert [e["node"]["id"] for e in edges] == [gid(e["node"]["komboId"]) for e in edges]
        assert info["hasPreviousPage"] is False
        if edges:
            assert info["startCursor"] == edges[0]["cursor"]
            assert info["endCursor"] == edges[-1]["cursor"]
        seen += [e["node"]["id"] for e in edges]
        if not info["hasNextPage"]:
            return seen, pages
        assert edges, "a page that is not the last one makes progress"
        after = info["endCursor"]
    raise AssertionError("unreachable")


@pytest.mark.parametrize("first", [1, 7, 100, 250])
def test_paging_with_constant_first_yields_every_interview_once_in_upstream_order(
    gateway: Gateway, sandbox: Sandbox, first: int
) -> None:
    truth = gids(visible(DEFAULT_INTEGRATION))
    seen, pages = walk(gateway, [first])
    assert seen == truth
    # Exactly one upstream request per GraphQL page when `first` stays the same.
    requests = sandbox.requests()
    assert len(requests) == pages == -(-len(truth) // first)
    assert {r["params"]["page_size"] for r in requests} == {str(first)}


@pytest.mark.parametrize("firsts", [[3, 50, 1, 250, 7, 100, 2], [100, 3, 50, 1, 250, 7, 2]])
def test_paging_with_first_changing_between_pages_yields_every_interview_once(
    gateway: Gateway, firsts: list[int]
) -> None:
    truth = gids(visible(DEFAULT_INTEGRATION))
    seen, _ = walk(gateway, firsts)
    assert seen == truth


def test_a_first_outgrowing_the_page_size_stitches_pages_then_returns_a_short_page(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    # The walk's page size is its first page's `first` (Kombo's cursors are bound to it): a
    # larger `first` later stitches pages of that size, at most MAX_STITCHED_PAGES of them,
    # then answers with fewer items and hasNextPage, resumable with no gap.
    truth = gids(visible(DEFAULT_INTEGRATION))
    start = page(gateway, 2, None)
    sandbox.clear()
    stitched = page(gateway, 100, start["pageInfo"]["endCursor"])
    got = [e["node"]["id"] for e in stitched["edges"]]
    assert got == truth[2 : 2 + 2 * MAX_STITCHED_PAGES]
    assert stitched["pageInfo"]["hasNextPage"] is True
    assert len(sandbox.requests()) == MAX_STITCHED_PAGES
    rest = page(gateway, 5, stitched["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == truth[22:27]


def test_resuming_from_any_edge_continues_with_no_gap_or_duplicate(gateway: Gateway) -> None:
    truth = gids(visible(DEFAULT_INTEGRATION))
    # Edges from a few differently-sized pages, including stitched ones.
    first_page = page(gateway, 20, None)
    second_page = page(gateway, 9, first_page["pageInfo"]["endCursor"])
    edges = first_page["edges"] + second_page["edges"]
    assert [e["node"]["id"] for e in edges] == truth[:29]
    for index, edge in enumerate(edges):
        for first in (1, 5, 33):
            resumed = page(gateway, first, edge["cursor"])
            got = [e["node"]["id"] for e in resumed["edges"]]
            assert got == truth[index + 1 : index + 1 + first], (index, first)


def test_resuming_from_the_last_edge_of_the_result_is_empty_with_no_next_page(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    truth = gids(visible(DEFAULT_INTEGRATION))
    last = page(gateway, 250, None)
    if last["pageInfo"]["hasNextPage"]:
        last = page(gateway, 250, last["pageInfo"]["endCursor"])
    assert last["edges"][-1]["node"]["id"] == truth[-1]
    sandbox.clear()
    after_end = page(gateway, 10, last["pageInfo"]["endCursor"])
    assert after_end["edges"] == []
    assert after_end["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert sandbox.requests() == [], "the end of the results is known without asking upstream"


def test_resuming_at_a_page_end_goes_straight_to_the_next_upstream_page(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    first = page(gateway, 10, None)
    sandbox.clear()
    page(gateway, 10, first["pageInfo"]["endCursor"])
    (request,) = sandbox.requests()
    assert "cursor" in request["params"], "the next page is fetched with the upstream cursor"


def test_resuming_mid_page_refetches_that_page_with_its_own_parameters(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    truth = gids(visible(DEFAULT_INTEGRATION))
    first = page(gateway, 10, None)
    sandbox.clear()
    resumed = page(gateway, 3, first["edges"][4]["cursor"])
    assert [e["node"]["id"] for e in resumed["edges"]] == truth[5:8]
    (request,) = sandbox.requests()
    assert request["params"]["page_size"] == "10"
    assert "cursor" not in request["params"]
