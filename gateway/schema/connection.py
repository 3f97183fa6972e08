"""The interviews connection: Relay types, and the resolver that pages through Kombo."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import strawberry
from strawberry.types.unset import UNSET

from gateway.errors import BadUserInput, UpstreamUnavailable
from gateway.kombo import MAX_PAGE_SIZE
from gateway.kombo.models import Interview as InterviewModel
from gateway.schema.cursors import START, EdgeCursor, InvalidCursor, Position
from gateway.schema.filters import InterviewFilter, InvalidFilter, filter_to_query, restrict_to_job
from gateway.schema.paging import UpstreamLoop, collect
from gateway.schema.types import Interview

if TYPE_CHECKING:
    from gateway.schema.request_context import GatewayContext


@strawberry.type(description="Paging information of a connection (forward paging only).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether `after: endCursor` would return more interviews."
    )
    has_previous_page: bool = strawberry.field(
        description="Always false: the gateway pages forward only."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge, if any.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last edge, if any: pass it as `after` for the next page."
    )


@strawberry.type(
    description="One interview in a connection, with the cursor that resumes after it."
)
class InterviewEdge:
    node: Interview = strawberry.field(description="The interview.")
    _cursor: strawberry.Private[EdgeCursor]
    _key: strawberry.Private[bytes]
    _integration: strawberry.Private[str]

    @strawberry.field(
        description=(
            "Opaque cursor of this edge: `after` it resumes with the very next interview, "
            "whatever `first` you ask for."
        )
    )
    def cursor(self) -> str:
        return self._cursor.encode(self._key, self._integration)


@strawberry.type(description="A page of interviews, in upstream order.")
class InterviewConnection:
    edges: list[InterviewEdge] = strawberry.field(description="The interviews with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page stands.")

    @strawberry.field(description="The interviews of `edges`, without cursors.")
    def nodes(self) -> list[Interview]:
        return [edge.node for edge in self.edges]


EMPTY_PAGE_INFO = PageInfo(
    has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
)


MAX_STITCHED_PAGES = 10
"""Most upstream pages one connection field reads when ``first`` outgrows the cursor's page size."""


def budget_allows_stitching(ctx: GatewayContext) -> Callable[[int], bool]:
    """Stitch following pages only within :data:`MAX_STITCHED_PAGES` and while the request's
    upstream-call budget keeps one call for the rest of the query: past that, a short page
    (``hasNextPage`` true) serves the client better than an error."""

    def may_stitch(pages: int) -> bool:
        budget = ctx.upstream.budget
        return pages < MAX_STITCHED_PAGES and budget.limit - budget.spent > 1

    return may_stitch


def check_first(first: int | None) -> int:
    """``first`` must be 1..250, the upstream's page-size bound."""
    if first is None or not 1 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE_SIZE}, got {first}")
    return first


async def resolve_interviews(
    info: strawberry.Info,
    *,
    first: int | None,
    after: str | None,
    flt: InterviewFilter | None,
    job_id: str | None = None,
) -> InterviewConnection:
    """``Query.interviews`` and ``Job.interviews``: Relay paging over Kombo's cursors."""
    ctx: GatewayContext = info.context
    first = check_first(first)
    if after is UNSET:
        after = None
    try:
        query = filter_to_query(flt)
    except InvalidFilter as exc:
        raise BadUserInput(str(exc)) from None
    if job_id is not None:
        query = restrict_to_job(query, job_id)
    digest = query.digest()
    integration = ctx.upstream.integration()

    start: Position = START
    page_size = first
    if after is not None:
        try:
            cursor = EdgeCursor.decode(after, ctx.cursor_key, integration)
        except InvalidCursor as exc:
            raise BadUserInput(f"after: {exc}") from None
        if cursor.query_digest != digest:
            raise BadUserInput("after: this cursor was issued for different filter arguments")
        if not 1 <= cursor.page_size <= MAX_PAGE_SIZE:
            raise BadUserInput("after: not a cursor issued by this gateway")
        # The upstream cursor is only valid with the page size it was issued with.
        start, page_size = cursor.position, cursor.page_size

    if query.matches_nothing:
        return InterviewConnection(edges=[], page_info=EMPTY_PAGE_INFO)

    async def fetch(upstream_cursor: str | None):  # type: ignore[no-untyped-def]
        return await ctx.upstream.fetch_page(query, page_size, upstream_cursor)

    try:
        collected = await collect(fetch, start, first, may_stitch=budget_allows_stitching(ctx))
    except UpstreamLoop as exc:
        raise UpstreamUnavailable(f"Kombo gave no usable answer: {exc}") from None

    edges = [
        InterviewEdge(
            node=_as_node(item),
            _cursor=EdgeCursor(position, page_size, digest),
            _key=ctx.cursor_key,
            _integration=integration,
        )
        for item, position in collected.items
    ]
    return InterviewConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=collected.has_next_page,
            has_previous_page=False,
            start_cursor=edges[0].cursor() if edges else None,
            end_cursor=edges[-1].cursor() if edges else None,
        ),
    )


def _as_node(item: InterviewModel) -> Interview:
    # The GraphQL types read the Kombo models' attributes directly (see gateway.schema.types).
    return item  # type: ignore[return-value]
