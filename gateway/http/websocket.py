"""``graphql-transport-ws`` on ``/graphql``: subscriptions over a WebSocket (README "Live changes").

The protocol is graphql-ws's (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
Browsers cannot set headers on a WebSocket, so the caller's credentials come in
``connection_init``'s payload: its keys are read case-insensitively as the request headers of a
query (``Authorization: Bearer …``, ``X-Integration-Id``; at the top level or in a nested
``headers`` object) by the same authenticator.

Close codes (the protocol's, and the gateway's own in 4000-4099):

========  =====================================================================================
1000      idle: no operation ran for ``GATEWAY_LIVE_IDLE_SECONDS`` (graphql-ws clients do not
          reconnect after a 1000 with nothing subscribed)
1001      going away: the process is shutting down (SIGTERM drain); clients reconnect elsewhere
1009      a message longer than ``GATEWAY_MAX_BODY_BYTES``
4008      slow consumer: a subscription's queue in the feed overflowed (the client reads changes
          slower than they come); clients reconnect, with graphql-ws' back-off. A client that
          takes no message at all for two keep-alive periods is dropped without a close frame
          (none would get through)
4400      a malformed message (not JSON, no ``type``, a ``connection_init`` payload that is not
          an object of strings, a ``subscribe`` without ``id`` or ``payload.query``…)
4401      ``subscribe`` before the connection was acknowledged
4403      ``connection_init``'s credentials refused (the authenticator's 401/403)
4406      the ``graphql-transport-ws`` subprotocol was not offered (closed before the handshake:
          HTTP 403)
4408      no ``connection_init`` within ``GATEWAY_LIVE_INIT_TIMEOUT_SECONDS``
4409      ``subscribe`` with the id of an operation still running
4429      a second ``connection_init``
========  =====================================================================================

Browsers send an ``Origin`` with every WebSocket handshake and apply no CORS to WebSockets: a
handshake whose ``Origin`` is neither the gateway's own (the ``Host`` it was sent to: GraphiQL)
nor one of ``GATEWAY_CORS_ORIGINS`` is refused (HTTP 403), so that no other site a user visits
can read the gateway through the user's browser (with ``GATEWAY_AUTH=none`` on a developer's
machine, say). Clients outside browsers send no ``Origin`` and are not concerned.

Other refusals end one operation with an ``error`` message and leave the connection open: a
document the limits or the persisted-documents policy refuse, a validation error, one operation
more than ``GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION`` (``TOO_MANY_SUBSCRIPTIONS``), a token
whose ``exp`` has passed (``UNAUTHENTICATED``, also sent to every running subscription the moment
it passes). Queries are served too (one ``next``, then ``complete``); the schema has no mutations.
The server sends a ``ping`` every ``GATEWAY_LIVE_KEEPALIVE_SECONDS``; it answers the client's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from gateway.auth import Caller
from gateway.errors import GatewayError
from gateway.http.live import (
    LiveOperations,
    OperationEnd,
    Payload,
    gateway_error_body,
)
from gateway.http.params import GraphQLParams, Rejection
from gateway.lifecycle import drain
from gateway.observability.request_id import (
    accept_request_id,
    current_request_id,
    set_request_id,
)
from gateway.redaction import Redactor
from gateway.schema.subscription import TooManySubscriptions

__all__ = ["PROTOCOL", "GraphQLWebSocket"]

log = logging.getLogger("gateway.live")

PROTOCOL = "graphql-transport-ws"

IDLE = 1000
GOING_AWAY = 1001
MESSAGE_TOO_BIG = 1009
SLOW_CONSUMER = 4008
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
FORBIDDEN = 4403
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
INIT_TIMEOUT = 4408
SUBSCRIBER_EXISTS = 4409
TOO_MANY_INITS = 4429


class GraphQLWebSocket:
    """The ASGI app behind the WebSocket upgrade of ``/graphql``."""

    def __init__(
        self,
        operations: LiveOperations,
        max_message_bytes: int,
        cors_origins: Collection[str] = (),
        redactor: Redactor | None = None,
    ) -> None:
        self._operations = operations
        self._max_message_bytes = max_message_bytes
        self._origins = frozenset(cors_origins)
        self._redactor = redactor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        headers = Headers(scope=scope)
        if not self._allows(headers):
            log.info("refused a WebSocket from another site's page (Origin not allowed)")
            await websocket.close(FORBIDDEN, "Origin not allowed")
            return
        if PROTOCOL not in scope.get("subprotocols", ()):
            await websocket.close(SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
            return
        set_request_id(accept_request_id(headers.get("x-request-id")))
        await websocket.accept(subprotocol=PROTOCOL)
        connection = _Connection(websocket, self._operations, self._max_message_bytes)
        connection.redactor = self._redactor
        await connection.serve()

    def _allows(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        if origin is None or "*" in self._origins or origin in self._origins:
            return True
        return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def _init_headers(payload: object) -> dict[str, str] | None:
    """``connection_init``'s payload as headers: its string entries, and those of a nested
    ``headers`` object (Apollo's and urql's examples send ``{headers: {Authorization}}``); None
    when it is not an object of strings."""
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        return None
    entries = dict(payload)
    nested = entries.pop("headers", None)
    if isinstance(nested, dict):
        entries.update(nested)
    elif nested is not None:
        return None
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
        return None
    return entries


class _Connection:
    """One WebSocket's state: its caller once acknowledged, its running operations."""

    def __init__(
        self, websocket: WebSocket, operations: LiveOperations, max_message_bytes: int
    ) -> None:
        self.websocket = websocket
        self.operations = operations
        self.settings = operations.settings
        self.max_message_bytes = max_message_bytes
        self.caller: Caller | None = None
        self.running: dict[str, asyncio.Task[None]] = {}
        self.closed = False
        self._send_lock = asyncio.Lock()
        self._activity = asyncio.Event()  # an operation started or ended
        self._reader: asyncio.Task[None] | None = None
        self.redactor: Redactor | None = None
        """Scrubs the process's secrets from every message sent (``None``: not scrubbed)."""

    async def serve(self) -> None:
        drain.live_closers.add(self.going_away)
        self._reader = asyncio.create_task(self._read())
        keepalive = asyncio.create_task(self._keepalive())
        idle = asyncio.create_task(self._close_when_idle())
        try:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self._reader)
        finally:
            drain.live_closers.discard(self.going_away)
            self._reader.cancel()
            keepalive.cancel()
            idle.cancel()
            for task in list(self.running.values()):
                task.cancel()
            self.closed = True

    # -- closing ----------------------------------------------------------------------------

    async def close(self, code: int, reason: str) -> None:
        """Close the connection (once), ending every operation without a message."""
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        for task in list(self.running.values()):
            if task is not current:
                task.cancel()
        async with self._send_lock:
            if self.websocket.application_state is WebSocketState.CONNECTED:
                # The client may be gone already, or read nothing (then the close frame waits
                # no longer than any message would, and the connection is dropped).
                reason = reason.encode()[:123].decode(errors="ignore")
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(
                        self.websocket.close(code, reason), self.settings.send_timeout_seconds
                    )
        if self._reader is not None and self._reader is not current:
            self._reader.cancel()

    async def going_away(self) -> None:
        """SIGTERM drain: the operations end, the connection closes with 1001."""
        await self.close(GOING_AWAY, "Going away: the gateway is shutting down")

    # -- sending ----------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.closed and message.get("type") != "pong":
                return
            if self.websocket.application_state is not WebSocketState.CONNECTED:
                return
            text = orjson.dumps(message)
            if self.redactor is not None:
                # As SecretGuard does for HTTP answers (it sees no WebSocket message).
                scrubbed = self.redactor.scrub(text)
                if scrubbed is not None:
                    log.error("a WebSocket message carried a secret: redacted")
                    text = scrubbed
            try:
                await asyncio.wait_for(
                    self.websocket.send_text(text.decode()),
                    self.settings.send_timeout_seconds,
                )
            except WebSocketDisconnect:
                self._drop()  # the client went away
            except TimeoutError:
                # The client has taken nothing for two keep-alive periods: its buffers are full,
                # and no close frame would get through either. The connection is dropped.
                log.warning(
                    "dropping a WebSocket whose client reads nothing (slow consumer): a message "
                    "waited %gs to be sent",
                    self.settings.send_timeout_seconds,
                )
                self._drop()

    def _drop(self) -> None:
        """End the connection without a close handshake: the operations end with the reader."""
        self.closed = True
        if self._reader is not None:
            self._reader.cancel()

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.settings.keepalive_seconds)
            if self.caller is not None:  # pings start with the acknowledged connection
                await self._send({"type": "ping"})

    async def _close_when_idle(self) -> None:
        idle = self.settings.idle_seconds
        while True:
            if self.running:
                await self._activity.wait()
                self._activity.clear()
                continue
            self._activity.clear()
            try:
                await asyncio.wait_for(self._activity.wait(), idle)
            except TimeoutError:
                if not self.running and self.caller is not None:
                    log.info("closing an idle WebSocket (no subscription for %gs)", idle)
                    await self.close(IDLE, f"Idle: no subscription for {idle:g} s")
                    return
                if self.caller is None:
                    continue  # the init timeout applies until then
            self._activity.clear()

    # -- reading ----------------------------------------------------------------------------

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.init_timeout_seconds
        while True:
            try:
                first = await asyncio.wait_for(self._receive(), deadline - loop.time())
            except TimeoutError:
                await self.close(INIT_TIMEOUT, "Connection initialisation timeout")
                return
            if first is None:
                return
            if first["type"] not in ("ping", "pong"):
                break
            await self._on_ping(first)  # allowed before connection_init; the deadline holds
        if first["type"] != "connection_init":
            if first["type"] == "subscribe":
                await self.close(UNAUTHORIZED, "Unauthorized")
            else:
                await self.close(BAD_REQUEST, f"Invalid message type {first['type']!r}")
            return
        if not await self._on_init(first):
            return
        while not self.closed:
            message = await self._receive()
            if message is None:
                return
            await self._on_message(message)

    async def _receive(self) -> dict[str, Any] | None:
        """The next message, decoded; None once the connection is closed (by either side)."""
        while True:
            event = await self.websocket.receive()
            if event["type"] == "websocket.disconnect":
                self.closed = True
                return None
            text = event.get("text")
            if text is None:
                await self.close(BAD_REQUEST, "Binary messages are not part of the protocol")
                return None
            if len(text) > self.max_message_bytes:
                await self.close(MESSAGE_TOO_BIG, "Message too big")
                return None
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                await self.close(BAD_REQUEST, "Invalid message received: not JSON")
                return None
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                await self.close(BAD_REQUEST, "Invalid message received: no type")
                return None
            return message

    async def _on_init(self, message: dict[str, Any]) -> bool:
        payload = _init_headers(message.get("payload"))
        if payload is None:
            await self.close(
                BAD_REQUEST, "Invalid connection_init: payload must be an object of strings"
            )
            return False
        # Header names are case-insensitive; Headers lower-cases them as Starlette's requests do.
        headers = Headers(raw=[(k.lower().encode(), v.encode()) for k, v in payload.items()])
        try:
            self.caller = self.operations.authenticate(headers)
        except GatewayError as error:
            await self.close(FORBIDDEN, f"Forbidden: {error.message}")
            return False
        except UnicodeEncodeError:
            await self.close(BAD_REQUEST, "Invalid connection_init: header values must be ASCII")
            return False
        await self._send({"type": "connection_ack"})
        self._activity.set()  # the idle clock starts now
        return True

    async def _on_ping(self, message: dict[str, Any]) -> None:
        pong: dict[str, Any] = {"type": "pong"}
        if isinstance(message.get("payload"), dict):
            pong["payload"] = message["payload"]
        if message["type"] == "ping":
            await self._send(pong)

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind in ("ping", "pong"):
            await self._on_ping(message)
        elif kind == "connection_init":
            await self.close(TOO_MANY_INITS, "Too many initialisation requests")
        elif kind == "subscribe":
            await self._on_subscribe(message)
        elif kind == "complete":
            operation_id = message.get("id")
            if not isinstance(operation_id, str):
                await self.close(BAD_REQUEST, "Invalid message received: complete without id")
                return
            task = self.running.pop(operation_id, None)
            if task is not None:
                task.cancel()
                self._activity.set()
        else:
            await self.close(BAD_REQUEST, f"Invalid message type {kind!r}")

    async def _on_subscribe(self, message: dict[str, Any]) -> None:
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            await self.close(BAD_REQUEST, "Invalid message received: subscribe without id")
            return
        try:
            params = GraphQLParams.from_json(message.get("payload"))
        except Rejection as rejection:
            await self.close(BAD_REQUEST, f"Invalid message received: {rejection.message}")
            return
        if operation_id in self.running:
            await self.close(SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists")
            return
        limit = self.settings.max_subscriptions_per_connection
        if len(self.running) >= limit:
            refusal = TooManySubscriptions(
                f"This connection runs {limit} operations already "
                "(GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first."
            )
            await self._send(
                {"id": operation_id, "type": "error", "payload": [gateway_error_body(refusal)]}
            )
            return
        self.running[operation_id] = asyncio.create_task(self._operate(operation_id, params))
        self._activity.set()

    # -- operations -------------------------------------------------------------------------

    async def _operate(self, operation_id: str, params: GraphQLParams) -> None:
        assert self.caller is not None
        telemetry = self.operations.telemetry
        record = telemetry.start("WEBSOCKET", "/graphql", self.websocket.headers)
        end: OperationEnd | None = None

        async def deliver(payload: Payload) -> None:
            if payload.final_error:
                message = {"id": operation_id, "type": "error", "payload": payload.body["errors"]}
            else:
                message = {"id": operation_id, "type": "next", "payload": payload.body}
            await self._send(message)

        try:
            end = await self.operations.run(params, self.caller, current_request_id(), deliver)
        except asyncio.CancelledError:
            record.disconnected = True
            raise
        except Exception:
            log.exception("a WebSocket operation failed")
            bug = GatewayError()
            await deliver(Payload({"errors": [gateway_error_body(bug)]}, final_error=True))
        finally:
            if self.running.get(operation_id) is asyncio.current_task():
                del self.running[operation_id]
                self._activity.set()
            telemetry.finish(record, None if record.disconnected else 200)
        if end is OperationEnd.COMPLETE and drain.draining:
            # The feed ended it because this process is shutting down: a `complete` would tell
            # the client the subscription is over for good; 1001 makes it reconnect elsewhere
            # and subscribe again.
            await self.going_away()
        elif end is OperationEnd.COMPLETE:
            await self._send({"id": operation_id, "type": "complete"})
        elif end is OperationEnd.SLOW_CONSUMER:
            await self.close(
                SLOW_CONSUMER, "Slow consumer: changes came faster than this client read them"
            )
