"""`collect` stops stitching when told to, with a short page that resumes seamlessly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from gateway.schema.cursors import START
from gateway.schema.paging import collect


@dataclass
class FakePage:
    results: list[int]
    next: str | None


def upstream(items: list[int], size: int) -> tuple[dict[str | None, FakePage], list[str | None]]:
    pages: dict[str | None, FakePage] = {}
    for n, offset in enumerate(range(0, len(items), size)):
        cursor = None if n == 0 else f"c{n}"
        nxt = f"c{n + 1}" if offset + size < len(items) else None
        pages[cursor] = FakePage(items[offset : offset + size], nxt)
    return pages, []


def test_a_refused_stitch_returns_the_items_so_far_with_a_next_page() -> None:
    items = list(range(50))
    pages, calls = upstream(items, 3)

    async def fetch(cursor: str | None) -> FakePage:
        calls.append(cursor)
        return pages[cursor]

    async def walk() -> list[int]:
        seen: list[int] = []
        position = START
        while True:
            got = await collect(fetch, position, 40, may_stitch=lambda fetched: fetched < 4)
            assert len(got.items) <= 12, "at most 4 pages of 3 per call"
            seen += [item for item, _ in got.items]
            if not got.has_next_page:
                return seen
            position = got.items[-1][1]

    assert asyncio.run(walk()) == items
    assert len(calls) == len(pages), "every page fetched exactly once"


def test_an_empty_first_page_is_stitched_past_whatever_may_stitch_says() -> None:
    pages = {None: FakePage([], "c1"), "c1": FakePage([7, 8], None)}

    async def fetch(cursor: str | None) -> FakePage:
        return pages[cursor]

    got = asyncio.run(collect(fetch, START, 5, may_stitch=lambda fetched: False))
    assert [item for item, _ in got.items] == [7, 8], "a page makes progress before it stops"
    assert got.has_next_page is False
