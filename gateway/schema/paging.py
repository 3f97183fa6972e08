"""Relay paging over upstream pages: a pure algorithm over a ``fetch(cursor)`` function.

Given where to resume (a :class:`~gateway.schema.cursors.Position`) and how many items the client
wants, :func:`collect` walks upstream pages: it skips what the position says was already seen,
stitches following pages while more items are wanted, and gives every item the position just after
it, so that resuming from *any* edge continues with no gap and no duplicate. Resuming exactly at a
page end goes straight to the upstream ``next`` cursor: constant-``first`` paging costs exactly one
upstream request per page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gateway.schema.cursors import END, Position

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Page(Protocol[T_co]):
    """What :func:`collect` needs of an upstream page."""

    @property
    def results(self) -> Sequence[T_co]: ...

    @property
    def next(self) -> str | None: ...


class UpstreamLoop(RuntimeError):
    """The upstream handed back a ``next`` cursor it had already given: paging would never end."""


@dataclass(frozen=True, slots=True)
class Collected(Generic[T]):
    """The items taken, each with the position right after it, and whether more follow."""

    items: list[tuple[T, Position]]
    has_next_page: bool


async def collect(
    fetch: Callable[[str | None], Awaitable[Page[T]]],
    start: Position,
    first: int,
    may_stitch: Callable[[int], bool] = lambda pages: True,
) -> Collected[T]:
    """Take up to ``first`` items starting at ``start``.

    Before fetching each page after the first, ``may_stitch(pages fetched so far)`` is asked; when
    it says no and some items were taken, the page comes back short with ``has_next_page`` true
    (Relay allows fewer than ``first``), and resuming after its last edge continues seamlessly.
    """
    if start.exhausted:
        return Collected([], has_next_page=False)
    items: list[tuple[T, Position]] = []
    page_cursor, skip = start.upstream_cursor, start.skip
    seen: set[str | None] = {page_cursor}
    fetched = 0
    while True:
        page = await fetch(page_cursor)
        fetched += 1
        results = page.results
        wanted = first - len(items)
        last_index = len(results) - 1
        for index in range(skip, min(len(results), skip + wanted)):
            if index < last_index:
                after = Position(page_cursor, index + 1)
            elif page.next is not None:
                after = Position(page.next, 0)
            else:
                after = END
            items.append((results[index], after))
        if skip + wanted < len(results):
            return Collected(items, has_next_page=True)
        if page.next is None:
            return Collected(items, has_next_page=False)
        if len(items) == first:
            return Collected(items, has_next_page=True)
        if items and not may_stitch(fetched):
            return Collected(items, has_next_page=True)
        if page.next in seen:
            raise UpstreamLoop("the upstream repeated a page cursor")
        seen.add(page.next)
        page_cursor, skip = page.next, 0
