"""What the two live transports share (README "Live changes"): running one operation.

:class:`LiveOperations` runs one GraphQL operation for a WebSocket (:mod:`gateway.http.websocket`)
or an event stream (:mod:`gateway.http.sse`): the caller is authenticated by the same
:class:`~gateway.auth.Authenticator` as queries, the document goes through the same
persisted-documents policy and the same schema extensions (limits, error shaping), and each
result is shaped as the HTTP endpoint shapes it. Subscriptions stream one result per change;
queries answer once. A subscription ends:

- when the client ends it, or the feed closes it (SIGTERM drain): ``complete``;
- when the caller's token expires (JWT ``exp``, plus the leeway the authenticator allows): a last
  error, ``UNAUTHENTICATED``;
- when its queue in the feed overflowed (a consumer slower than the changes): ``SLOW_CONSUMER``,
  which the transport turns into a close of the connection (WebSocket 4008, SSE a last error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gateway.auth import Caller
from gateway.config import LiveTransportSettings
from gateway.errors import GatewayError, PersistedQueryError, Unauthenticated
from gateway.http.params import GraphQLParams
from gateway.http.responses import error_body, never_executed, result_body
from gateway.observability.telemetry import RequestTelemetry, note_errors, note_integration
from gateway.persisted import DocumentPolicy
from gateway.persisted.protocol import with_document_id
from gateway.schema.error_handling import translate_error

__all__ = [
    "SLOW_CONSUMER",
    "LiveOperations",
    "OperationEnd",
    "Payload",
    "expired_error",
    "gateway_error_body",
]

log = logging.getLogger("gateway.live")

SLOW_CONSUMER = "SLOW_CONSUMER"
"""The code of the last error of a subscription whose queue overflowed (SSE); on a WebSocket the
connection closes with 4008 instead (gateway.http.websocket)."""

ContextFor = Callable[[Caller, str], Any]
"""Builds one operation's context (``GatewayContext``) for a caller and request id."""


class OperationEnd(Enum):
    """Why an operation's stream of results ended."""

    COMPLETE = "complete"
    ERROR = "error"  # refused before execution, or the token expired: its errors were sent
    SLOW_CONSUMER = "slow_consumer"


@dataclass(frozen=True, slots=True)
class Payload:
    """One result to send. ``final_error``: the operation failed before execution (or its token
    expired): ``body`` holds only ``errors``, and no result follows (graphql-transport-ws sends
    it as an ``error`` message)."""

    body: dict[str, Any]
    final_error: bool = False


Send = Callable[[Payload], Awaitable[None]]


def gateway_error_body(error: GatewayError) -> dict[str, Any]:
    """A GraphQL error entry for an error raised outside execution."""
    return {"message": error.message, "extensions": error.extensions()}


def expired_error() -> dict[str, Any]:
    """The error that ends a subscription whose token has expired."""
    return gateway_error_body(Unauthenticated("The bearer token has expired."))


class LiveOperations:
    """Runs operations for the live transports (see the module docstring)."""

    def __init__(
        self,
        schema: strawberry.Schema,
        authenticate: Callable[[Mapping[str, str]], Caller],
        context_for: ContextFor,
        settings: LiveTransportSettings,
        persisted: DocumentPolicy | None = None,
        telemetry: RequestTelemetry | None = None,
    ) -> None:
        self._schema = schema
        self._authenticate = authenticate
        self._context_for = context_for
        self.settings = settings
        self._persisted = persisted
        self.telemetry = telemetry or RequestTelemetry()

    def authenticate(self, headers: Mapping[str, str]) -> Caller:
        """The caller, as for queries; raises ``Unauthenticated``/``Forbidden``/``BadUserInput``."""
        caller = self._authenticate(headers)
        note_integration(caller.integration_id)
        return caller

    async def run(
        self, params: GraphQLParams, caller: Caller, request_id: str, send: Send
    ) -> OperationEnd:
        """Run one operation, sending each result; returns why it ended. Cancelled, it stops
        (the client ended it, or the connection went away) and cancels its upstream work."""
        note_integration(caller.integration_id)  # this operation's log line and metrics
        if caller.expires_at is not None and caller.expires_at <= time.time():
            await send(Payload({"errors": [expired_error()]}, final_error=True))
            return OperationEnd.ERROR
        context = self._context_for(caller, request_id)
        try:
            if self._persisted is not None:
                try:
                    params = await self._resolve_document(params)
                except PersistedQueryError as error:
                    await send(Payload({"errors": [gateway_error_body(error)]}, final_error=True))
                    return OperationEnd.ERROR
            elif not params.has_query:
                refusal = {"message": 'The request has no "query".', "extensions": {}}
                refusal["extensions"] = {"code": "BAD_USER_INPUT"}
                await send(Payload({"errors": [refusal]}, final_error=True))
                return OperationEnd.ERROR
            return await self._stream(params, caller, context, request_id, send)
        finally:
            cancel_pending = getattr(context, "cancel_pending", None)
            if cancel_pending is not None:
                cancel_pending()
            response_sent = getattr(context, "response_sent", None)
            if response_sent is not None:
                response_sent()

    async def _resolve_document(self, params: GraphQLParams) -> GraphQLParams:
        assert self._persisted is not None
        query_sent = params.query if params.has_query else None
        extensions = with_document_id(params.extensions, params.document_id, query_sent)
        query = await self._persisted.resolve(query_sent, extensions)
        return replace(params, query=query, has_query=True, extensions=extensions)

    async def _stream(
        self, params: GraphQLParams, caller: Caller, context: Any, request_id: str, send: Send
    ) -> OperationEnd:
        expiry = _expiry(caller)
        timeout = asyncio.timeout_at(expiry)
        try:
            async with timeout:
                source = await self._schema.stream(
                    params.query,
                    variable_values=params.variables,
                    context_value=context,
                    operation_name=params.operation_name,
                    operation_extensions=params.extensions,
                    # No mutation in this schema; a query answers once, then completes.
                    allowed_operation_types=(OperationType.QUERY, OperationType.SUBSCRIPTION),
                )
                async with contextlib.aclosing(source):  # type: ignore[type-var]
                    async for result in source:
                        if not isinstance(result, ExecutionResult):
                            continue  # incremental delivery: not served here
                        payload = _payload(result, request_id)
                        await send(payload)
                        if payload.final_error:
                            return OperationEnd.ERROR
        except TimeoutError:
            if not timeout.expired():
                raise
            log.info("a subscription ended: the caller's token expired")
            await send(Payload({"errors": [expired_error()]}, final_error=True))
            return OperationEnd.ERROR
        subscription = getattr(context, "live_subscription", None)
        if subscription is not None and getattr(subscription, "overflowed", False):
            log.warning("a subscription ended: its consumer is too slow (queue full)")
            return OperationEnd.SLOW_CONSUMER
        return OperationEnd.COMPLETE


def _expiry(caller: Caller) -> float | None:
    """The event loop's time at which the caller's token expires; None when it never does."""
    if caller.expires_at is None:
        return None
    return asyncio.get_running_loop().time() + (caller.expires_at - time.time())


def _payload(result: ExecutionResult, request_id: str) -> Payload:
    shaped = [translate_error(error, request_id) for error in result.errors or ()]
    errors = [error_body(error) for error in shaped]
    if errors:
        note_errors(errors)
    if never_executed(result):
        return Payload({"errors": errors}, final_error=True)
    return Payload(result_body(result, errors))
