"""Relay paging over upstream pages (`collect`), against a modelled upstream."""

from __future__ import annotations

import hashlib
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.schema.cursors import END, START, Position
from gateway.schema.paging import Collected, UpstreamLoop, collect

R = TypeVar("R")


def run(coroutine: Coroutine[object, None, R]) -> R:
    """Run a coroutine whose awaits never suspend (the fakes below answer at once), without the
    cost of an event loop per call."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("the coroutine suspended")


@dataclass(frozen=True)
class FakePage:
    results: tuple[str, ...]
    next: str | None


def opaque(seed: str) -> str:
    """An upstream cursor that says nothing about where it points."""
    return hashlib.sha256(seed.encode()).hexdigest()[:20] + "=="


@dataclass
class FakeUpstream:
    """An upstream whose results are cut into pages with the given sizes (the first page has no
    cursor); ``fetch`` records every cursor it is asked for."""

    chunks: list[list[str]]
    cursors: list[str | None] = field(init=False)
    calls: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cursors = [None] + [opaque(f"page-{k}") for k in range(1, len(self.chunks))]
        self.pages = {
            cursor: FakePage(
                tuple(chunk),
                self.cursors[k + 1] if k + 1 < len(self.chunks) else None,
            )
            for k, (cursor, chunk) in enumerate(zip(self.cursors, self.chunks, strict=True))
        }

    @classmethod
    def uniform(cls, n: int, page_size: int) -> FakeUpstream:
        items = [f"item-{i}" for i in range(n)]
        return cls([items[i : i + page_size] for i in range(0, n, page_size)] or [[]])

    @property
    def items(self) -> list[str]:
        return [item for chunk in self.chunks for item in chunk]

    def page_of(self, item_index: int) -> int:
        """The index of the page that holds the item at ``item_index``."""
        seen = 0
        for k, chunk in enumerate(self.chunks):
            seen += len(chunk)
            if item_index < seen:
                return k
        raise IndexError(item_index)

    async def fetch(self, cursor: str | None) -> FakePage:
        self.calls.append(cursor)
        assert cursor in self.pages, f"collect sent a cursor the upstream never issued: {cursor!r}"
        return self.pages[cursor]

    def take(self, start: Position, first: int) -> Collected[str]:
        self.calls = []
        return run(collect(self.fetch, start, first))


def walk(upstream: FakeUpstream, firsts: Sequence[int]) -> list[Collected[str]]:
    """Page through everything with ``after: endCursor``, cycling through ``firsts``."""
    results: list[Collected[str]] = []
    position = START
    for step in range(len(upstream.items) + 2):
        collected = upstream.take(position, firsts[step % len(firsts)])
        results.append(collected)
        if not collected.has_next_page:
            return results
        assert collected.items, "has_next_page with no items would never advance"
        position = collected.items[-1][1]
    raise AssertionError("paging did not end")


sizes = st.integers(min_value=0, max_value=60)
page_sizes = st.integers(min_value=1, max_value=12)
firsts_lists = st.lists(
    st.integers(min_value=1, max_value=30) | st.just(250), min_size=1, max_size=8
)


@settings(max_examples=150)
@given(n=sizes, ps=page_sizes, firsts=firsts_lists)
def test_walking_yields_every_item_once_in_order_and_ends_exactly_at_the_end(
    n: int, ps: int, firsts: list[int]
) -> None:
    upstream = FakeUpstream.uniform(n, ps)
    taken = 0
    for step, collected in enumerate(walk(upstream, firsts)):
        first = firsts[step % len(firsts)]
        got = [item for item, _ in collected.items]
        assert got == upstream.items[taken : taken + first]
        taken += len(got)
        assert collected.has_next_page == (taken < n)
    assert taken == n


@settings(max_examples=150)
@given(n=sizes, ps=page_sizes, firsts=firsts_lists, data=st.data())
def test_resuming_from_any_returned_position_yields_exactly_the_rest(
    n: int, ps: int, firsts: list[int], data: st.DataObject
) -> None:
    upstream = FakeUpstream.uniform(n, ps)
    positions = [pos for collected in walk(upstream, firsts) for _, pos in collected.items]
    assert len(positions) == n
    for index, position in enumerate(positions):
        rest = upstream.items[index + 1 :]
        everything = upstream.take(position, n + 1)
        assert [item for item, _ in everything.items] == rest
        assert everything.has_next_page is False

        first = data.draw(st.integers(min_value=1, max_value=n + 1), label="first")
        some = upstream.take(position, first)
        assert [item for item, _ in some.items] == rest[:first]
        assert some.has_next_page == (first < len(rest))


@settings(max_examples=150)
@given(n=sizes, ps=page_sizes, firsts=firsts_lists)
def test_each_call_fetches_exactly_the_pages_its_items_span(
    n: int, ps: int, firsts: list[int]
) -> None:
    """In particular, resuming at a page end starts at the next page, never the one before."""
    upstream = FakeUpstream.uniform(n, ps)
    position, taken = START, 0
    for step in range(n + 2):
        collected = upstream.take(position, firsts[step % len(firsts)])
        if collected.items:
            first_page = upstream.page_of(taken)
            taken += len(collected.items)
            last_page = upstream.page_of(taken - 1)
            assert upstream.calls == upstream.cursors[first_page : last_page + 1]
        else:
            assert n == 0
            assert upstream.calls == [None]
        if not collected.has_next_page:
            break
        position = collected.items[-1][1]
    assert taken == n


@settings(max_examples=150)
@given(n=sizes, ps=page_sizes)
def test_constant_first_equal_to_page_size_costs_one_fetch_per_page(n: int, ps: int) -> None:
    upstream = FakeUpstream.uniform(n, ps)
    all_calls: list[str | None] = []
    position = START
    while True:
        collected = upstream.take(position, ps)
        assert len(upstream.calls) == 1
        all_calls += upstream.calls
        if not collected.has_next_page:
            break
        position = collected.items[-1][1]
    assert all_calls == upstream.cursors
    assert len(all_calls) == max(1, -(-n // ps))


@given(n=st.integers(min_value=1, max_value=60), ps=page_sizes, first=st.integers(1, 30))
def test_last_item_resumes_at_end_without_fetching(n: int, ps: int, first: int) -> None:
    upstream = FakeUpstream.uniform(n, ps)
    positions = [pos for collected in walk(upstream, [first]) for _, pos in collected.items]
    assert positions[-1] == END
    assert END not in positions[:-1]
    collected = upstream.take(END, first)
    assert collected.items == []
    assert collected.has_next_page is False
    assert upstream.calls == []


@settings(max_examples=150)
@given(
    chunk_sizes=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=12),
    firsts=firsts_lists,
)
def test_irregular_and_empty_pages_still_yield_every_item_once_in_order(
    chunk_sizes: list[int], firsts: list[int]
) -> None:
    """Upstream pages may be short or empty (a trailing empty page after a full one included)."""
    counter = iter(range(10_000))
    upstream = FakeUpstream([[f"item-{next(counter)}" for _ in range(k)] for k in chunk_sizes])
    results = walk(upstream, firsts)
    got = [item for collected in results for item, _ in collected.items]
    assert got == upstream.items
    assert results[-1].has_next_page is False
    for step, collected in enumerate(results[:-1]):
        # A call stops early only when the upstream has nothing more.
        assert len(collected.items) == firsts[step % len(firsts)]


@dataclass
class LoopingUpstream:
    """Pages ``None → c1 → … → cN``, whose last page points back at ``c{back_to}``."""

    n_pages: int
    back_to: int
    per_page: int
    calls: list[str | None] = field(default_factory=list)

    def cursor(self, k: int) -> str | None:
        return None if k == 0 else f"c{k}"

    async def fetch(self, cursor: str | None) -> FakePage:
        self.calls.append(cursor)
        assert len(self.calls) <= 10 * (self.n_pages + 1), "collect keeps fetching"
        k = 0 if cursor is None else int(cursor[1:])
        following = k + 1 if k < self.n_pages else self.back_to
        return FakePage(tuple(f"{k}-{i}" for i in range(self.per_page)), self.cursor(following))


@given(
    n_pages=st.integers(min_value=1, max_value=8),
    data=st.data(),
    per_page=st.integers(min_value=0, max_value=3),
)
def test_an_upstream_repeating_a_next_cursor_raises_upstream_loop(
    n_pages: int, data: st.DataObject, per_page: int
) -> None:
    back_to = data.draw(st.integers(min_value=1, max_value=n_pages), label="back_to")
    upstream = LoopingUpstream(n_pages, back_to, per_page)
    with pytest.raises(UpstreamLoop):
        # More than the loop could ever hold, so only the loop check can end this.
        run(collect(upstream.fetch, START, (n_pages + 1) * per_page + 1))
    # Every distinct page once, then no more.
    assert upstream.calls == [upstream.cursor(k) for k in range(n_pages + 1)]


def test_a_page_pointing_at_itself_raises_upstream_loop_when_resumed_there() -> None:
    calls: list[str | None] = []

    async def fetch(cursor: str | None) -> FakePage:
        calls.append(cursor)
        return FakePage((), "same")

    with pytest.raises(UpstreamLoop):
        run(collect(fetch, Position("same", 0), 10))
    assert calls == ["same"]
