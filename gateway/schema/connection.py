"""Relay connections over Kombo's list endpoints: the types, and the resolver that pages.

Every model's connection is the same mechanism: ``first``/``after`` translated into Kombo's
``page_size``/``cursor`` by :func:`~gateway.schema.paging.collect`, edge cursors signed and bound
to the endpoint, the filters and the integration (:mod:`gateway.schema.cursors`), filters rendered
by :mod:`gateway.schema.filters`. :func:`connection_types` makes each model's ``<Type>Connection``
and ``<Type>Edge``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import strawberry
from strawberry.types.unset import UNSET

from gateway.errors import BadUserInput, UpstreamUnavailable
from gateway.kombo import MAX_PAGE_SIZE, ListQuery, Record
from gateway.kombo.catalog import Model
from gateway.schema.cursors import START, CursorSigner, EdgeCursor, InvalidCursor, Position
from gateway.schema.filters import InvalidFilter, filter_to_query, restrict
from gateway.schema.paging import UpstreamLoop, collect

if TYPE_CHECKING:
    from gateway.schema.request_context import GatewayContext


@strawberry.type(description="Paging information of a connection (forward paging only).")
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether `after: endCursor` would return more items."
    )
    has_previous_page: bool = strawberry.field(
        description="Always false: the gateway pages forward only."
    )
    first_edge: strawberry.Private[Edge | None] = None
    last_edge: strawberry.Private[Edge | None] = None

    @strawberry.field(description="Cursor of the first edge, if any.")
    def start_cursor(self) -> str | None:
        edge = self.first_edge
        return None if edge is None else edge.cursor()

    @strawberry.field(
        description="Cursor of the last edge, if any: pass it as `after` for the next page."
    )
    def end_cursor(self) -> str | None:
        edge = self.last_edge
        return None if edge is None else edge.cursor()


class Edge:
    """What every ``<Type>Edge`` is: a record and the cursor resuming after it, signed when
    asked. (No class annotations here: Strawberry would read them as fields.) The record may be
    Kombo's decoded JSON (:attr:`GatewayContext.raw_records`)."""

    def __init__(self, node: Any, position: Position, signer: CursorSigner) -> None:
        self.node = node
        self._position = position
        self._signer = signer

    def cursor(self) -> str:
        return self._signer.encode(self._position)


class Connection:
    """What every ``<Type>Connection`` is: edges and page info."""

    def __init__(self, edges: list[Edge], page_info: PageInfo) -> None:
        self.edges = edges
        self.page_info = page_info

    def nodes(self) -> list[Any]:
        return [edge.node for edge in self.edges]


def connection_types(model: Model, module: str) -> tuple[type, type]:
    """``<Type>Edge`` and ``<Type>Connection`` of ``model``; their node type is named by string,
    resolved in ``module``'s namespace."""
    name = model.name
    label = model.plural[:1].upper() + model.plural[1:]

    def nodes(self: Connection) -> list[Record]:
        return [edge.node for edge in self.edges]

    nodes.__annotations__ = {"return": f"list[{name}]"}
    nodes.__module__ = module
    edge = type(
        f"{name}Edge",
        (Edge,),
        {
            "__module__": module,
            "__annotations__": {"node": name},
            "__init__": Edge.__init__,
            "node": strawberry.field(description=f"The {name}."),
            "cursor": strawberry.field(
                resolver=Edge.cursor,
                description=(
                    "Opaque cursor of this edge: `after` it resumes with the very next item, "
                    "whatever `first` you ask for."
                ),
            ),
        },
    )
    edge = strawberry.type(edge, description=f"One {name} in a connection, with its cursor.")
    connection = type(
        f"{name}Connection",
        (Connection,),
        {
            "__module__": module,
            "__annotations__": {"edges": f"list[{name}Edge]", "page_info": PageInfo},
            "__init__": Connection.__init__,
            "edges": strawberry.field(description=f"The {label.lower()} with their cursors."),
            "page_info": strawberry.field(description="Where this page stands."),
            "nodes": strawberry.field(
                resolver=nodes, description=f"The {name} records of `edges`, without cursors."
            ),
        },
    )
    connection = strawberry.type(
        connection, description=f"A page of {label} from Kombo's `GET {model.path}`, in its order."
    )
    return edge, connection


class _Items(NamedTuple):
    """A page as the connection takes its items: Kombo's decoded JSON where the executor
    completes it (:attr:`GatewayContext.raw_records`), else parsed records."""

    results: Sequence[Any]
    next: str | None


EMPTY_PAGE_INFO = PageInfo(has_next_page=False, has_previous_page=False)


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


async def resolve_connection(
    info: strawberry.Info,
    model: Model,
    connection: type[Connection],
    edge: type[Edge],
    *,
    first: int | None,
    after: str | None,
    flt: Any,
    parent: tuple[str, str] | None = None,
) -> Connection:
    """A root or nested connection: Relay paging over Kombo's cursors. ``parent`` narrows it to
    one record: (query parameter, Kombo id), e.g. ``("job_ids", job id)`` for ``Job.interviews``."""
    ctx: GatewayContext = info.context
    first = check_first(first)
    if after is UNSET:
        after = None
    try:
        query = filter_to_query(model, flt)
    except InvalidFilter as exc:
        raise BadUserInput(str(exc)) from None
    if parent is not None:
        query = restrict(query, *parent)
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
            raise BadUserInput(
                "after: this cursor was issued for another connection or other filter arguments"
            )
        if not 1 <= cursor.page_size <= MAX_PAGE_SIZE:
            raise BadUserInput("after: not a cursor issued by this gateway")
        # The upstream cursor is only valid with the page size it was issued with.
        start, page_size = cursor.position, cursor.page_size

    if query.matches_nothing:
        return connection(edges=[], page_info=EMPTY_PAGE_INFO)

    async def fetch(upstream_cursor: str | None) -> _Items:
        page = await ctx.upstream.fetch_page(query, page_size, upstream_cursor)
        return _Items(page.items if ctx.raw_records else page.results, page.next)

    try:
        collected = await collect(fetch, start, first, may_stitch=budget_allows_stitching(ctx))
    except UpstreamLoop as exc:
        raise UpstreamUnavailable(f"Kombo gave no usable answer: {exc}") from None

    signer = CursorSigner(page_size, digest, ctx.cursor_key, integration)
    edges = [edge(item, position, signer) for item, position in collected.items]
    return connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=collected.has_next_page,
            has_previous_page=False,
            first_edge=edges[0] if edges else None,
            last_edge=edges[-1] if edges else None,
        ),
    )


__all__ = [
    "EMPTY_PAGE_INFO",
    "MAX_STITCHED_PAGES",
    "Connection",
    "Edge",
    "ListQuery",
    "PageInfo",
    "check_first",
    "connection_types",
    "resolve_connection",
]
