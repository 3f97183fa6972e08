"""When a response is decided, nothing the request started keeps running upstream.

graphql-core abandons a field when a sibling nulls a non-null parent; the page that field was
waiting for is shielded (other fields may share it) and DataLoader batches run in tasks of
their own, so the request's context ends them itself, and the HTTP endpoint makes it do so.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.http import GraphQLEndpoint
from gateway.kombo import ListQuery
from gateway.kombo.catalog import CATALOG
from gateway.upstream import UpstreamAccess


class HangingKombo:
    """A Kombo client whose calls never answer; it records how each one ended."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = 0

    async def list_records(self, *_args: Any, **_kwargs: Any) -> Any:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


def context_with(kombo: HangingKombo) -> UpstreamAccess:
    return UpstreamAccess(
        kombo=kombo,  # type: ignore[arg-type]
        integration_id="sandbox:acme-corp",
    )


def test_cancel_pending_ends_a_shielded_page_fetch_its_field_abandoned() -> None:
    async def scenario() -> int:
        kombo = HangingKombo()
        ctx = context_with(kombo)
        field = asyncio.ensure_future(
            ctx.fetch_page(ListQuery.of(CATALOG["Interview"], {}), 10, None)
        )
        await kombo.started.wait()
        field.cancel()  # graphql-core gives up on the field...
        await asyncio.sleep(0)
        assert kombo.cancelled == 0, "...but the shielded upstream call runs on"
        ctx.cancel_pending()
        for _ in range(3):
            await asyncio.sleep(0)
        return kombo.cancelled

    assert asyncio.run(scenario()) == 1


def test_cancel_pending_ends_a_dataloader_batch() -> None:
    async def scenario() -> int:
        kombo = HangingKombo()
        ctx = context_with(kombo)
        lookup = asyncio.ensure_future(ctx.loader("Interview").load("a"))
        await kombo.started.wait()
        ctx.cancel_pending()
        for _ in range(3):
            await asyncio.sleep(0)
        lookup.cancel()
        return kombo.cancelled

    assert asyncio.run(scenario()) == 1


def test_the_endpoint_ends_the_requests_pending_work_once_it_has_the_result() -> None:
    ended: list[bool] = []

    class Context:
        def cancel_pending(self) -> None:
            ended.append(True)

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "hi"

    async def context_getter(_request: Request) -> Context:
        return Context()

    endpoint = GraphQLEndpoint(strawberry.Schema(Query), context_getter)
    app = Starlette(routes=[Route("/graphql", endpoint, methods=["GET", "POST"])])

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await http.post("/graphql", json={"query": "{ hello }"})

    response = asyncio.run(send())
    assert response.json() == {"data": {"hello": "hi"}}
    assert ended == [True]
