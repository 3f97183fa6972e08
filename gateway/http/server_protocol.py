"""The gateway's HTTP/1.1 connections: uvicorn's httptools protocol, bounded.

uvicorn's :class:`HttpToolsProtocol` reads whatever a client sends: httptools concatenates an
unfinished header line for as long as it grows (eight connections sending 64 MiB of one header
took a worker from 63 to 688 MiB, and 37 s of CPU), a connection that sends nothing is never
closed (1,200 of them exhausted a worker's 1,024 descriptors and ``/healthz`` stopped
answering), and neither is one that trickles its head or body a byte a second. This subclass adds,
per connection (:class:`~gateway.config.ConnectionLimits`, README "Limits"):

- **head bounds**: the request target (``414``), each header line, the number of headers and the
  whole head (``431``), counted as the bytes arrive, so that a head is refused after at most
  ``max_head_bytes`` plus one read (256 KiB), never buffered to its end;
- **timeouts**: a head must arrive whole within ``header_timeout`` of the connection's opening (or
  of its first byte, on a kept-alive connection), a body within ``body_timeout`` of its head
  (``408``), and a connection idle between requests is closed after ``keepalive_timeout``;
- **a connection cap** per process (:class:`ConnectionTable`): when it is full, the connection
  idle the longest (no request being worked on) is closed to make room, so a flood of idle
  connections cannot lock ``/healthz`` out, and the process never runs out of descriptors.

A refused head gets a short ``text/plain`` answer with ``connection: close``, and the
connection is closed; a client still sending (a flood) may see the connection reset instead.

Why httptools and not h11, whose ``h11_max_incomplete_event_size`` bounds a head by itself:
h11 has no header count, no timeouts and no cap either, so it would need the same subclass, and
being pure Python it costs twice the CPU. The gateway app in sandbox mode, ``wrk -t2 -c64
-d10s`` on a shared 2-core machine, two rounds each (requests/s; server CPU per request), on
``GET /healthz`` and on ``POST /graphql`` of ``{ interviews(first: 1) { nodes { id } } }``:

============================  =======================  =========================
protocol                      ``/healthz``             GraphQL
============================  =======================  =========================
uvicorn's httptools           7,403-8,144; 93-102 us   812-916; 903-1,080 us
this protocol (httptools)     7,634-7,897; 99-100 us   961-992; 959-992 us
uvicorn's h11                 3,309-3,744; 230-244 us  642-747; 1,081-1,284 us
============================  =======================  =========================

The bounds cost within the noise: a request that arrives whole in one read (nearly all) starts
no timer; arming and cancelling two per request measured +10-15 us.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
import weakref
from collections import OrderedDict
from typing import Any, ClassVar, Protocol

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from gateway.config import ConnectionLimits
from gateway.observability.metrics import HTTP_CONNECTIONS

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "Connection",
    "ConnectionTable",
    "GatewayHttpProtocol",
    "ServerConfig",
    "connection_cap",
    "raise_descriptor_limit",
]

log = logging.getLogger("gateway")

DEFAULT_MAX_CONNECTIONS = 1024
"""Client connections of one worker at once, unless the descriptor limit is lower.

Memory decides: an idle connection costs a worker 6.7 KiB (3,000: +19.7 MiB), one holding an
unfinished head about that head (2,000 with 60 KB each: +129 MiB). 1,024 connections with
64 KiB heads (GATEWAY_MAX_HEAD_BYTES) are 66 MiB at worst, within the manifest's 256 Mi beside
a ~62 MiB idle worker and the response cache's 32 MiB. Behind a proxy that pools connections, a
worker sees a few dozen; when full, idle ones make room (:class:`ConnectionTable`)."""

DESCRIPTORS_BESIDES_CLIENTS = 256
"""Descriptors a worker keeps for other things than client connections: upstream connections
(httpx pools up to 100), Redis, logs, the event loop's own, metrics files. Evicted connections
close as fast as new ones are accepted: a worker stopped (SIGSTOP) while 1,500 connections
queued, with a cap of 50, held at most 66 descriptors once resumed (sampled; its ``FDSize``,
which only grows, stayed 256)."""


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration, serving with :class:`GatewayHttpProtocol` within ``limits``,
    with at most :func:`connection_cap` connections for a process of ``descriptors``.

    A plain attribute rather than a closure so that it crosses to ``--workers N`` worker
    processes, which receive the configuration pickled.
    """

    def __init__(
        self, app: Any, *, limits: ConnectionLimits, descriptors: int, **kwargs: Any
    ) -> None:
        super().__init__(app, http=GatewayHttpProtocol, **kwargs)
        self.connection_limits = limits
        self.max_connections = connection_cap(limits.max_connections, descriptors)


def raise_descriptor_limit() -> int:
    """Raise this process's soft ``RLIMIT_NOFILE`` to its hard limit; the new soft limit.

    Worker processes inherit it. Many environments start processes with a soft limit of 1,024
    under a hard one of 2^19 or more: the rest is there for the asking.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # some sandboxes refuse; the soft limit stands
            pass
    return soft


def connection_cap(configured: int | None, descriptors: int) -> int:
    """The connection cap of one worker: ``configured`` (``GATEWAY_MAX_CONNECTIONS``) or
    :data:`DEFAULT_MAX_CONNECTIONS`, within what ``descriptors`` leave after
    :data:`DESCRIPTORS_BESIDES_CLIENTS`.

    Raises :class:`ValueError` (naming the variable) if a configured cap does not fit.
    """
    room = descriptors - DESCRIPTORS_BESIDES_CLIENTS
    if configured is None:
        return max(16, min(DEFAULT_MAX_CONNECTIONS, room))
    if configured > room:
        raise ValueError(
            f"GATEWAY_MAX_CONNECTIONS={configured} does not fit in this process's {descriptors} "
            f"file descriptors (RLIMIT_NOFILE) less {DESCRIPTORS_BESIDES_CLIENTS} for the rest: "
            f"at most {room}; raise the limit (ulimit -n, the container runtime's nofile) or "
            "lower the cap"
        )
    return configured


class _HeadRefused(Exception):
    """Raised in a parser callback to stop parsing; the answer is on the protocol."""


class Connection(Protocol):
    """What :class:`ConnectionTable` needs of a connection."""

    @property
    def evictable(self) -> bool: ...

    def evict(self) -> None: ...


class ConnectionTable:
    """The client connections of one server, least recently active first.

    ``admit`` makes room by closing the least recently active connection that is
    :attr:`~GatewayHttpProtocol.evictable`; activity (a read, a finished request) moves a
    connection to the end. All O(1) but for skipping connections busy with a request at the
    front, which are at most the requests in flight.
    """

    _tables: ClassVar[weakref.WeakKeyDictionary[ServerState, ConnectionTable]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._order: OrderedDict[Connection, None] = OrderedDict()
        self._refused = 0
        self._refusal_logged = 0.0

    @classmethod
    def of(cls, server_state: ServerState, capacity: int) -> ConnectionTable:
        """The table of the server that owns ``server_state`` (one per process in practice)."""
        table = cls._tables.get(server_state)
        if table is None:
            table = cls._tables[server_state] = cls(capacity)
        return table

    def __len__(self) -> int:
        return len(self._order)

    def admit(self, connection: Connection) -> bool:
        """Add ``connection``, closing the longest idle one if full; False if none could go."""
        if len(self._order) >= self.capacity:
            victim = next((c for c in self._order if c.evictable), None)
            if victim is None:
                self._log_refusal()
                return False
            del self._order[victim]
            victim.evict()
        self._order[connection] = None
        return True

    def touch(self, connection: Connection) -> None:
        if connection in self._order:
            self._order.move_to_end(connection)

    def remove(self, connection: Connection) -> None:
        self._order.pop(connection, None)

    def _log_refusal(self) -> None:
        # A flood would write a line per connection: one line per 10 s, with the count.
        self._refused += 1
        now = time.monotonic()
        if now - self._refusal_logged >= 10:
            log.warning(
                "connection refused: all %d connections (GATEWAY_MAX_CONNECTIONS) are busy "
                "with requests (%d refused since the last such line)",
                self.capacity,
                self._refused,
            )
            self._refused = 0
            self._refusal_logged = now


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded heads, read timeouts and a connection cap."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        if isinstance(config, ServerConfig):
            self.limits, capacity = config.connection_limits, config.max_connections
        else:  # uvicorn.Config(http=GatewayHttpProtocol): the defaults
            self.limits, capacity = ConnectionLimits(), DEFAULT_MAX_CONNECTIONS
        self.timeout_keep_alive = self.limits.keepalive_timeout  # type: ignore[assignment]
        self.table = ConnectionTable.of(server_state, capacity)
        self.reading_head = True
        self.head_bytes = 0  # received since the head began (one read early at most)
        self.header_lines_bytes = 0  # of the header lines parsed so far
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.refusal: tuple[int, str] | None = None
        self.counted = False  # in kombo_gateway_http_connections

    @property
    def evictable(self) -> bool:
        """No request is being worked on: idle, reading a head, or waiting for a body."""
        cycle = self.cycle
        return cycle is None or cycle.response_complete or cycle.more_body

    # Connection life

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.table.admit(self):
            transport.close()
            return
        HTTP_CONNECTIONS.inc()
        self.counted = True
        self.head_timer = self.loop.call_later(self.limits.header_timeout, self.on_head_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self.table.remove(self)
        if self.counted:
            self.counted = False
            HTTP_CONNECTIONS.dec()
        self._cancel_timers()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the transport over, with its own limits.
        self.table.remove(self)
        self._cancel_timers()
        super().handle_websocket_upgrade()

    def evict(self) -> None:
        """Close this idle connection to make room for a new one."""
        self._cancel_timers()
        log.debug("closing the longest idle connection %s to make room", self.client)
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return  # refused or timed out: nothing more is read
        self._unset_keepalive_if_required()
        self.table.touch(self)
        if self.reading_head:
            self.head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(*self.refusal)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        # The timers start only for a head or body that a read left unfinished: most requests
        # arrive whole in one read and never pay for one (measured: 15 us of ~100 a request).
        if self.reading_head:
            if self.head_bytes > self.limits.max_head_bytes:
                # An unfinished head already over the bound: refused now, not when (if) it ends.
                self._refuse(431, "Request header fields too large", "GATEWAY_MAX_HEAD_BYTES")
            elif self.head_bytes and self.head_timer is None:
                self.head_timer = self.loop.call_later(
                    self.limits.header_timeout, self.on_head_timeout
                )
        elif self.body_timer is None and self.cycle is not None and self.cycle.more_body:
            self.body_timer = self.loop.call_later(self.limits.body_timeout, self.on_body_timeout)

    # Parser callbacks (inside feed_data)

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > self.limits.max_url_bytes:
            self._stop_parsing(414, "URI too long", "GATEWAY_MAX_URL_BYTES")

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        line = len(name) + len(value)
        self.header_lines_bytes += line + 4  # with ": " and CRLF
        if line > self.limits.max_header_bytes:
            self._stop_parsing(431, "Request header field too large", "GATEWAY_MAX_HEADER_BYTES")
        if len(self.headers) > self.limits.max_headers:
            self._stop_parsing(431, "Too many request header fields", "GATEWAY_MAX_HEADERS")

    def on_headers_complete(self) -> None:
        # The head's size as the parser saw it, since a head may end within a read.
        if len(self.url) + self.header_lines_bytes > self.limits.max_head_bytes:
            self._stop_parsing(431, "Request header fields too large", "GATEWAY_MAX_HEAD_BYTES")
        self.reading_head = False
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None
        self.reading_head = True
        self.head_bytes = self.header_lines_bytes = 0
        self.table.touch(self)  # a request being worked on goes to the back of the queue
        super().on_message_complete()

    # Timeouts

    def on_head_timeout(self) -> None:
        self.head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head arriving slowly while a request is answered: after that one.
            self.cycle.keep_alive = False
            return
        if self.head_bytes:
            self._answer_and_close(408, "Request head not received in time")
        else:
            self.transport.close()  # nothing asked: nothing to answer

    def on_body_timeout(self) -> None:
        self.body_timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None:
            return
        if not cycle.response_started:
            # The application waits for the rest of the body: it sees a disconnect.
            cycle.disconnected = True
            cycle.message_event.set()
            self._answer_and_close(408, "Request body not received in time")
        else:
            self.transport.close()

    # Answers

    def _stop_parsing(self, status: int, reason: str, variable: str) -> None:
        self.refusal = (status, f"{reason} ({variable})")
        raise _HeadRefused(reason)

    def _refuse(self, status: int, reason: str, variable: str | None = None) -> None:
        message = f"{reason} ({variable})" if variable else reason
        log.info("refused a request head from %s: %d %s", self.client, status, message)
        self._answer_and_close(status, message)

    def _answer_and_close(self, status: int, message: str) -> None:
        self._cancel_timers()
        body = message.encode("ascii") + b"\n"
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"cache-control: no-store\r\n",  # an error answer (README "HTTP caching")
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()

    def _cancel_timers(self) -> None:
        for timer in (self.head_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.head_timer = self.body_timer = None
