"""``GET/POST /graphql/stream``: GraphQL over Server-Sent Events, "distinct connections" mode.

The protocol is graphql-sse's (https://github.com/enisdenjo/graphql-sse/blob/master/PROTOCOL.md):
one operation per request, its parameters as for ``/graphql`` (GET query parameters, POST
``application/json``), the caller's headers as for queries (``Authorization``,
``X-Integration-Id``), CORS as for ``/graphql``. A request that is not well formed, or whose
caller is refused, is answered before the stream with the JSON error ``/graphql`` would give
(4xx); from there on, everything travels in the stream (``200 text/event-stream``):

- ``event: next`` with one execution result per change (a query: one result), validation and
  limit errors included, as the protocol asks;
- ``event: complete`` when the operation ends: the query answered, the subscription ended by the
  feed, the SIGTERM drain, the token expired (after a ``next`` holding an ``UNAUTHENTICATED``
  error), or the consumer too slow (after a ``next`` holding a ``SLOW_CONSUMER`` error);
- a ``:`` comment line every ``GATEWAY_LIVE_KEEPALIVE_SECONDS``, so proxies keep it open.

The client ends a subscription by closing the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive, Scope, Send

from gateway.errors import GatewayError
from gateway.http.live import (
    SLOW_CONSUMER,
    LiveOperations,
    OperationEnd,
    Payload,
    gateway_error_body,
)
from gateway.http.negotiation import JSON, parse_media_type
from gateway.http.params import GraphQLParams, Rejection, too_large
from gateway.http.responses import error_response
from gateway.lifecycle import drain
from gateway.observability.request_id import current_request_id

__all__ = ["EVENT_STREAM", "GraphQLEventStream"]

log = logging.getLogger("gateway.live")

EVENT_STREAM = "text/event-stream"
_COMPLETE = b"event: complete\ndata: \n\n"
_KEEPALIVE = b":\n\n"


def next_event(body: dict[str, Any]) -> bytes:
    """One ``next`` event: the result as one line of JSON (JSON escapes every newline)."""
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


class GraphQLEventStream:
    """The ASGI app behind ``/graphql/stream``."""

    def __init__(self, operations: LiveOperations, max_body_bytes: int) -> None:
        self._operations = operations
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        record = self._operations.telemetry.start(request.method, scope["path"], request.headers)
        status: int | None = 200
        try:
            refusal = await self._refusal_or_params(request)
            if not isinstance(refusal, GraphQLParams):
                status = refusal.status_code
                await refusal(scope, receive, send)
                return
            params = refusal
            try:
                caller = self._operations.authenticate(request.headers)
            except GatewayError as error:
                status = error.http_status
                response = error_response(
                    JSON, error.http_status, error.message, extensions=error.extensions()
                )
                await response(scope, receive, send)
                return
            if not await _Stream(self._operations, send, receive).run(params, caller):
                status = None
                record.disconnected = True
        except ClientDisconnect:
            status = None
            record.disconnected = True
        finally:
            self._operations.telemetry.finish(record, status)

    async def _refusal_or_params(self, request: Request) -> Any:
        if request.method not in ("GET", "POST"):
            return error_response(
                JSON, 405, "GraphQL over SSE is served over GET and POST.", {"Allow": "GET, POST"}
            )
        accepted = [
            parse_media_type(part)[0] for part in request.headers.get("accept", "*/*").split(",")
        ]
        if not any(media in (EVENT_STREAM, "text/*", "*/*") for media in accepted):
            return error_response(JSON, 406, f"Acceptable media type: {EVENT_STREAM}.")
        try:
            if request.method == "GET":
                return GraphQLParams.from_query_string(request.query_params)
            return GraphQLParams.from_json(await self._json_body(request))
        except Rejection as rejection:
            return error_response(
                JSON,
                rejection.status,
                rejection.message,
                rejection.headers,
                extensions=rejection.extensions,
            )

    async def _json_body(self, request: Request) -> object:
        media, _ = parse_media_type(request.headers.get("content-type", ""))
        if media != JSON:
            raise Rejection(415, f"POST bodies must be {JSON}.")
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise too_large(self._max_body_bytes)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_body_bytes:
                raise too_large(self._max_body_bytes)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise Rejection(400, "The request body is not valid JSON.") from None


class _Stream:
    """One event stream: the operation's results as events, keep-alives, the end."""

    def __init__(self, operations: LiveOperations, send: Send, receive: Receive) -> None:
        self.operations = operations
        self._send_raw = send
        self._receive = receive
        self._lock = asyncio.Lock()
        self._ended = False
        self.stuck = asyncio.Event()  # set when the client stopped reading

    async def _write(self, chunk: bytes) -> None:
        async with self._lock:
            if self._ended:
                return
            message = {"type": "http.response.body", "body": chunk, "more_body": True}
            try:
                await asyncio.wait_for(
                    self._send_raw(message), self.operations.settings.send_timeout_seconds
                )
            except TimeoutError:
                # The client has read nothing for two keep-alive periods (a slow consumer): no
                # event would reach it, `complete` included. The stream ends here.
                log.warning(
                    "ending an event stream whose client reads nothing (slow consumer): an "
                    "event waited %gs to be sent",
                    self.operations.settings.send_timeout_seconds,
                )
                self._ended = True
                self.stuck.set()

    async def run(self, params: GraphQLParams, caller: Any) -> bool:
        """Stream the operation; False when the client went away first."""
        await self._send_raw(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-store"),
                    (b"vary", b"Authorization, X-Integration-Id"),
                    # nginx and other buffering proxies: pass each event on at once.
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        await self._write(_KEEPALIVE)  # the headers leave now, before the first change

        async def deliver(payload: Payload) -> None:
            await self._write(next_event(payload.body))

        operation = asyncio.create_task(
            self.operations.run(params, caller, current_request_id(), deliver)
        )
        disconnected = asyncio.create_task(self._until_disconnected_or_stuck())
        keepalive = asyncio.create_task(self._keepalive())

        async def going_away() -> None:
            operation.cancel()
            with contextlib.suppress(BaseException):
                await operation

        drain.live_closers.add(going_away)
        try:
            await asyncio.wait({operation, disconnected}, return_when=asyncio.FIRST_COMPLETED)
            if disconnected.done() and not operation.done():
                operation.cancel()
                with contextlib.suppress(BaseException):
                    await operation
                return False
            end = _end_of(operation)
            if end is None:  # a bug: masked, as in every answer (the traceback is logged)
                bug = GatewayError()
                await self._write(next_event({"errors": [gateway_error_body(bug)]}))
            elif end is OperationEnd.SLOW_CONSUMER:
                await self._write(
                    next_event(
                        {
                            "errors": [
                                {
                                    "message": "Slow consumer: changes came faster than this "
                                    "client read them; subscribe again.",
                                    "extensions": {"code": SLOW_CONSUMER},
                                }
                            ]
                        }
                    )
                )
            await self._write(_COMPLETE)
            return True
        finally:
            drain.live_closers.discard(going_away)
            for task in (operation, disconnected, keepalive):
                task.cancel()
            async with self._lock:
                stuck, self._ended = self.stuck.is_set(), True
                if not stuck:  # a stuck client would hold this last send too: uvicorn closes it
                    with contextlib.suppress(Exception):
                        await self._send_raw({"type": "http.response.body", "body": b""})

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.operations.settings.keepalive_seconds)
            await self._write(_KEEPALIVE)

    async def _until_disconnected_or_stuck(self) -> None:
        async def disconnected() -> None:
            while True:
                message: Message = await self._receive()
                if message["type"] == "http.disconnect":
                    return

        watchers = {asyncio.ensure_future(disconnected()), asyncio.ensure_future(self.stuck.wait())}
        try:
            await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watcher in watchers:
                watcher.cancel()


def _end_of(operation: asyncio.Task[OperationEnd]) -> OperationEnd | None:
    """Why the operation ended; None when it failed (a bug, logged here)."""
    if operation.cancelled():
        return OperationEnd.COMPLETE  # the drain ended it
    error = operation.exception()
    if error is not None:
        log.error("an SSE operation failed", exc_info=error)
        return None
    return operation.result()
