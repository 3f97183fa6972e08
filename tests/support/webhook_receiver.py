"""A tiny HTTP server that records the webhooks posted to it (uvicorn on a free loopback port,
in a thread), standing in for the gateway's ``POST /webhooks/kombo``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["Received", "WebhookReceiver", "webhook_receiver"]


@dataclass(frozen=True)
class Received:
    """One request as it arrived: path, headers (lower-case names) and raw body."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    """``http://127.0.0.1:<port>``; any path is accepted."""
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once at least ``count`` have arrived (blocking; fails at ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(seen := self.snapshot()) < count:
            assert time.monotonic() < deadline, f"{len(seen)} of {count} webhooks in {timeout} s"
            time.sleep(0.01)
        return seen

    async def until(self, count: int, timeout: float = 10.0) -> list[Received]:
        """:meth:`wait_for` for async tests: yields to the loop while waiting."""
        deadline = time.monotonic() + timeout
        while len(seen := self.snapshot()) < count:
            assert time.monotonic() < deadline, f"{len(seen)} of {count} webhooks in {timeout} s"
            await asyncio.sleep(0.01)
        return seen


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A :class:`WebhookReceiver` listening until the block ends; it answers every POST 200."""
    holder: list[WebhookReceiver] = []

    async def receive(request: Request) -> Response:
        body = await request.body()
        holder[0].add(Received(request.url.path, dict(request.headers), body))
        return Response(status_code=200)

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the webhook receiver did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    holder.append(WebhookReceiver(f"http://127.0.0.1:{port}"))
    try:
        yield holder[0]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
