"""What an answered request leaves behind on its connection, served with ``serve``'s HTTP protocol.

uvicorn keeps a connection's last request scope until the connection's next request arrives (or
it closes). Whatever the scope reaches lives that long: on every idle kept-alive connection, the
whole GraphQL context of its last request (its pages of Kombo's JSON, loaders and records), freed
only when the next request comes, when none of it is in any cache any more (issue 12: ~5 % of a
worker's CPU went to freeing the previous request's objects there).
"""

from __future__ import annotations

import asyncio
import gc
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.server_protocol import ServerConfig
from gateway.schema.request_context import GatewayContext
from tests.support.heap import collector_off

QUERY = "{ interviews(first: 20) { edges { cursor node { id title application { id } } } } }"


class Returned:
    """ASGI middleware telling when the app's call for a request has returned."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.done: asyncio.Queue[str] = asyncio.Queue()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.done.put_nowait(scope["path"])


@asynccontextmanager
async def served() -> AsyncIterator[tuple[str, Returned]]:
    """The sandbox gateway, served with ``serve``'s HTTP protocol on a socket of its own, until
    the block ends. (uvicorn's own server class: the gateway's marks the whole process as
    draining when it stops, which would refuse other tests' subscriptions in this worker.)"""
    settings = Settings.from_env({"GATEWAY_AUTH": "none", "LOG_LEVEL": "warning"})
    app = Returned(create_app(settings))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = ServerConfig(
        app,
        limits=settings.connections,
        descriptors=1024,
        access_log=False,
        log_config=None,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", app
    finally:
        server.should_exit = True
        await task


@pytest.mark.anyio
async def test_an_answered_request_leaves_no_context_on_its_idle_connection() -> None:
    async with served() as (url, app), httpx.AsyncClient(base_url=url) as client:
        warm = await client.post("/graphql", json={"query": QUERY})  # startup's own objects
        assert warm.status_code == 200, warm.text
        assert await app.done.get() == "/graphql"
        with collector_off():
            # Other tests of this process may keep contexts of their own: only new ones count.
            before = contexts()
            response = await client.post("/graphql", json={"query": QUERY})
            assert response.status_code == 200 and "errors" not in response.json()
            assert await app.done.get() == "/graphql"
            # The connection is open and idle: its last scope is still uvicorn's.
            left = [c for c in contexts() if not any(c is b for b in before)]
        assert left == []


def contexts() -> list[GatewayContext]:
    return [o for o in gc.get_objects() if isinstance(o, GatewayContext)]
