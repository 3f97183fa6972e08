"""The `/graphql` endpoint: GraphQL over HTTP, per the GraphQL-over-HTTP specification.

Strawberry executes; the endpoint decides everything the transport does (the spec's draft, as
audited by npm's `graphql-http`; README "Routes"), in order:

- which media type answers (:mod:`gateway.http.negotiation`), and 406 when none fits;
- which requests are well formed (:mod:`gateway.http.params`: GET query parameters, POST
  `application/json` bodies, POST `application/graphql` bodies holding just the document);
  400, 405, 413, 415 otherwise, and bodies read at once bounded per process (503);
- who is calling (the context getter; README "Security");
- persisted queries (`gateway.persisted`): after authentication, a `DocumentPolicy` turns a
  request's hash (`extensions.persistedQuery` or `documentId`) or full query into the document
  to run, or
  answers it itself (`PersistedQueryNotFound`, trusted-documents refusals);
- the answer (:mod:`gateway.http.responses`): its status code and its serialized errors;
- its cacheability (:mod:`gateway.http.caching`): `Cache-Control` and `Vary`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson
import strawberry
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from gateway.errors import (
    GatewayError,
    PersistedQueryError,
    UpstreamUnavailable,
)
from gateway.http.caching import HttpCaching
from gateway.http.negotiation import (
    GET_OFFERS,
    GRAPHQL,
    GRAPHQL_OFFERS,
    GRAPHQL_RESPONSE_JSON,
    HTML,
    JSON,
    UTF8,
    negotiate,
    parse_media_type,
)
from gateway.http.params import GraphQLParams, Rejection, too_large
from gateway.http.responses import error_response, request_error_response, result_response
from gateway.observability.telemetry import RequestTelemetry, not_a_graphql_request
from gateway.persisted import DocumentPolicy
from gateway.persisted.protocol import with_document_id

__all__ = ["BUFFERED_BODIES", "GraphQLEndpoint"]

logger = logging.getLogger(__name__)

BUFFERED_BODIES = 16
"""Bodies of the largest allowed size (``GATEWAY_MAX_BODY_BYTES``) one process reads at once:
16 MiB with the default 1 MiB limit (README "Sizing memory")."""

ContextGetter = Callable[[Request], Awaitable[Any]]
GraphiQLRenderer = Callable[[Request], Response]


class GraphQLEndpoint:
    """The ASGI app behind `GET /graphql` and `POST /graphql`.

    `context_getter` builds each request's context (authentication happens there); it may raise
    a `GatewayError`, which answers the request with that error and its `http_status`.
    `graphiql`, when given, renders the IDE for browsers (GET requests preferring text/html).
    `persisted`, when given, decides the document of each request (persisted queries); without
    it, `extensions.persistedQuery` is ignored and every request must carry its `query`.
    `telemetry` observes each request (metrics, its log line, its span;
    `gateway.observability.telemetry`). `caching` says what `Cache-Control` and `Vary` every
    answer carries (`gateway.http.caching`; by default: never stored).
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        context_getter: ContextGetter,
        graphiql: GraphiQLRenderer | None = None,
        max_body_bytes: int = 1_048_576,
        persisted: DocumentPolicy | None = None,
        telemetry: RequestTelemetry | None = None,
        caching: HttpCaching | None = None,
    ) -> None:
        self._telemetry = telemetry or RequestTelemetry()
        self._caching = caching or HttpCaching()
        self._schema = schema
        self._context_getter = context_getter
        self._graphiql = graphiql
        self._max_body_bytes = max_body_bytes
        # Bodies being read at once, in bytes, across this process's connections: every
        # connection may trickle a body up to the limit until GATEWAY_BODY_TIMEOUT, so without
        # this bound 256 connections could hold 256 MiB. Past it a body is refused (503).
        self._buffered_bodies = 0
        self._max_buffered_bodies = BUFFERED_BODIES * max_body_bytes
        self._persisted = persisted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        record = self._telemetry.start(request.method, scope["path"], request.headers)
        status: int | None = 500
        try:
            try:
                response = await self.handle(request)
            except ClientDisconnect:
                # The client closed the connection before its body was complete: nobody is
                # left to answer, and nothing went wrong here. The request's own log line (info)
                # and metrics say `client_disconnected`; no traceback, no ERROR.
                record.disconnected = True
                status = None
                return
            status = response.status_code
            await response(scope, receive, send)
        finally:
            self._telemetry.finish(record, status)
            # Sent, failed or cancelled: the request's memory reservation goes back. The scope
            # outlives the request (uvicorn keeps it until the connection's next request), and
            # through this bound method the whole context would too: its pages, loaders and
            # records, on every idle kept-alive connection, freed when cold.
            response_sent = getattr(request.state, "response_sent", None)
            if response_sent is not None:
                del request.state.response_sent
                response_sent()

    async def handle(self, request: Request) -> Response:
        """Answer one HTTP request; never raises for anything a client can send. Every answer
        says whether it may be cached, and on which request headers it depends."""
        response = await self._answer(request)
        self._caching.stamp(request, response)
        return response

    async def _answer(self, request: Request) -> Response:
        if request.method not in ("GET", "POST"):
            return error_response(
                JSON, 405, "GraphQL is served over GET and POST only.", {"Allow": "GET, POST"}
            )

        offers = GET_OFFERS if request.method == "GET" and self._graphiql else GRAPHQL_OFFERS
        media_type = negotiate(request.headers.get("accept"), offers)
        if media_type is None:
            return error_response(
                JSON, 406, f"Acceptable media types: {GRAPHQL_RESPONSE_JSON}, {JSON}."
            )
        if media_type == HTML and self._graphiql is not None:
            not_a_graphql_request()
            return self._graphiql(request)

        try:
            params = await self._read_params(request)
        except Rejection as rejection:
            return error_response(
                media_type,
                rejection.status,
                rejection.message,
                rejection.headers,
                extensions=rejection.extensions,
            )

        # After the request is known to be well formed, before anything reveals the schema:
        # unauthenticated clients learn nothing from validation messages.
        try:
            context = await self._context_getter(request)
        except GatewayError as error:
            return error_response(
                media_type, error.http_status, error.message, extensions=error.extensions()
            )
        except Exception:
            logger.exception("building the GraphQL context failed")
            bug = GatewayError()  # masked: INTERNAL_SERVER_ERROR, "Internal server error."
            return error_response(
                media_type, bug.http_status, bug.message, extensions=bug.extensions()
            )

        request.state.response_sent = getattr(context, "response_sent", None)

        if self._persisted is not None:
            try:
                query_sent = params.query if params.has_query else None
                extensions = with_document_id(params.extensions, params.document_id, query_sent)
                params = replace(params, extensions=extensions)
                query = await self._persisted.resolve(query_sent, extensions)
            except PersistedQueryError as error:
                return error_response(
                    media_type,
                    error.http_status,
                    error.message,
                    error.headers,
                    extensions=error.extensions(),
                )
            params = replace(params, query=query, has_query=True)
        elif not params.has_query:
            return error_response(media_type, 400, 'The request has no "query".')

        return await self._execute(request.method, params, context, media_type)

    async def _read_params(self, request: Request) -> GraphQLParams:
        if request.method == "GET":
            return GraphQLParams.from_query_string(request.query_params)

        media, parameters = parse_media_type(request.headers.get("content-type", ""))
        if media not in (JSON, GRAPHQL):
            raise Rejection(415, f"POST bodies must be {JSON} (or {GRAPHQL}).")
        if parameters.get("charset", "utf-8") not in UTF8:
            raise Rejection(415, "Request bodies must be encoded in UTF-8.")

        body = await self._read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejection(400, "The request body is not valid UTF-8.") from None

        if media == GRAPHQL:
            return GraphQLParams(query=text)
        if not text.strip():
            raise Rejection(400, "The request body is empty; expected a JSON object.")
        try:
            # orjson, not the stdlib: it refuses lone UTF-16 surrogates ("\ud800"), which
            # nothing downstream could encode again.
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise Rejection(400, "The request body is not valid JSON.") from None
        return GraphQLParams.from_json(payload)

    async def _read_body(self, request: Request) -> bytes:
        # Refuse by the declared length first, then count what actually arrives (chunked
        # bodies declare none), so an oversized body is never held in memory.
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise too_large(self._max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                if size + len(chunk) > self._max_body_bytes:
                    raise too_large(self._max_body_bytes)
                size += len(chunk)
                self._buffered_bodies += len(chunk)
                chunks.append(chunk)
                if self._buffered_bodies > self._max_buffered_bodies:
                    raise Rejection(
                        503,
                        "the gateway is at capacity: too many request bodies are being read "
                        "at once; retry in 1 s",
                        {"code": UpstreamUnavailable.code},
                        {"Retry-After": "1"},
                    )
            return b"".join(chunks)
        finally:
            self._buffered_bodies -= size  # the joined body is the caller's from here on

    async def _execute(
        self, method: str, params: GraphQLParams, context: Any, media_type: str
    ) -> Response:
        # GET is a safe method: the spec forbids running mutations through it.
        allowed = (
            {OperationType.QUERY}
            if method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        try:
            result = await self._schema.execute(
                params.query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=params.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.MUTATION:
                return error_response(
                    media_type,
                    405,
                    "Mutations are not allowed over GET; use POST.",
                    {"Allow": "POST"},
                )
            return request_error_response(media_type, "Subscriptions are not supported over HTTP.")
        except CannotGetOperationTypeError as error:
            return request_error_response(media_type, error.as_http_error_reason())
        except MissingQueryError:
            # An empty document is still a well-formed request whose document does not parse.
            return request_error_response(media_type, "Syntax Error: Unexpected <EOF>.")
        finally:
            # The answer is decided: nothing this request started may keep running (an upstream
            # call of a field that graphql-core gave up on would hold a slot until the deadline).
            cancel_pending = getattr(context, "cancel_pending", None)
            if cancel_pending is not None:
                cancel_pending()

        return result_response(result, media_type, getattr(context, "request_id", None))
