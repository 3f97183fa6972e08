"""Graceful shutdown: stop being ready, keep serving a moment, finish what is in flight, close.

On SIGTERM (or SIGINT) :class:`GatewayServer` first marks the process as draining, so
``/readyz`` answers 503 and load balancers stop sending new requests; after
``GATEWAY_DRAIN_SECONDS`` it lets uvicorn shut down, which stops accepting connections and waits
up to ``GATEWAY_SHUTDOWN_GRACE`` seconds for in-flight requests before the lifespan closes the
upstream client. A second signal skips the drain.

The draining flag is per process because signals are: one :data:`drain` object per process.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn

log = logging.getLogger("gateway")


LIVE_CLOSE_SECONDS = 5.0
"""At most this long for the live connections to close before uvicorn shuts the rest down."""


class DrainState:
    """Whether this process has been asked to stop, and what must end before it does."""

    def __init__(self) -> None:
        self.draining = False
        self.live_closers: set[Callable[[], Awaitable[None]]] = set()
        """Each open subscriber connection's clean close (WebSocket 1001, SSE ``complete``):
        registered by :mod:`gateway.http.live` while the connection is open."""

        self.on_shutdown: list[Callable[[], None]] = []
        """Called (in the event loop's thread) when the server's shutdown begins, before it
        waits for open connections: the live feed ends its subscriptions here, so that their
        long-lived connections close and clients reconnect to another replica."""

    def shutting_down(self) -> None:
        """Run the :attr:`on_shutdown` callbacks (each once per process start)."""
        callbacks, self.on_shutdown = self.on_shutdown, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("a shutdown callback failed")

    async def close_live(self, timeout: float = LIVE_CLOSE_SECONDS) -> None:
        """End every subscriber connection cleanly, at once, within ``timeout`` seconds."""
        closers = list(self.live_closers)
        if not closers:
            return
        log.info("draining: closing %d subscriber connection(s)", len(closers))
        pending = [asyncio.ensure_future(close()) for close in closers]
        _done, late = await asyncio.wait(pending, timeout=timeout)
        for task in late:
            task.cancel()


drain = DrainState()


class GatewayServer(uvicorn.Server):
    """uvicorn's server with a drain period before its graceful shutdown."""

    def __init__(self, config: uvicorn.Config, drain_seconds: float = 0.0) -> None:
        super().__init__(config)
        self.drain_seconds = drain_seconds

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if drain.draining or self.drain_seconds <= 0:
            drain.draining = True
            self._shut_down(sig, frame)
            return
        drain.draining = True
        log.info("draining: not ready any more; shutting down in %gs", self.drain_seconds)
        loop = asyncio.get_event_loop()
        loop.call_later(self.drain_seconds, self._shut_down, sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Subscriptions first, each with its protocol's clean ending (WebSocket 1001 "going
        # away", SSE `complete`): uvicorn's own shutdown would close WebSockets with 1012 and
        # wait out the grace period on event streams that never end by themselves.
        drain.draining = True
        await drain.close_live()
        await super().shutdown(sockets)

    def _shut_down(self, sig: int, frame: FrameType | None) -> None:
        drain.shutting_down()
        super().handle_exit(sig, frame)
