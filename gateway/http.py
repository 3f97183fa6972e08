"""GraphQL over HTTP: the `/graphql` endpoint, per the GraphQL-over-HTTP specification.

Strawberry executes; this module owns everything the transport decides (the spec's draft, as
audited by npm's `graphql-http`):

- which media type answers (`Accept` negotiation between `application/graphql-response+json`,
  `application/json` and, for browsers on GET, the GraphiQL page), and 406 when none fits;
- which requests are well formed (GET query parameters, POST `application/json` bodies, and
  POST `application/graphql` bodies holding just the document); 400, 405, 413, 415 otherwise;
- the status code of a GraphQL response: with `application/graphql-response+json`, a request
  that never reached execution (parse, validation or variable-coercion errors; no `data` key)
  is a 4xx, everything else 200; with `application/json`, 200 for every well-formed request;
- persisted queries (`gateway.persisted`): after authentication, a `DocumentPolicy` turns a
  request's hash (`extensions.persistedQuery`) or full query into the document to run, or
  answers it itself (`PersistedQueryNotFound`, trusted-documents refusals);
- how errors look to clients (`format_error`): the gateway's own `GatewayError`s keep their
  code, GraphQL request errors get `BAD_USER_INPUT`, anything else is masked as
  `INTERNAL_SERVER_ERROR` so that no stack trace or internal message leaves the process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.admission import GatewayAtCapacity
from gateway.errors import (
    BadUserInput,
    Forbidden,
    GatewayError,
    PersistedQueryError,
    QueryTooComplex,
    Unauthenticated,
    UpstreamError,
    UpstreamUnavailable,
)
from gateway.observability.telemetry import RequestTelemetry, not_a_graphql_request, note_errors
from gateway.persisted import DocumentPolicy

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "MAX_MESSAGE_CHARS",
    "GraphQLEndpoint",
    "GraphQLParams",
    "cap_message",
    "format_error",
    "negotiate",
]

logger = logging.getLogger(__name__)

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_HTML = "text/html"
_GRAPHQL = "application/graphql"

# Offers in the server's order of preference, used only to break ties: a client that accepts
# anything (`*/*`, or no Accept header) gets `application/json`, which every client (legacy
# ones included) can read and which the graphql-http audit expects; a browser, whose Accept
# ranks text/html above `*/*`, gets GraphiQL.
_GRAPHQL_OFFERS = (JSON, GRAPHQL_RESPONSE_JSON)
_GET_OFFERS = (*_GRAPHQL_OFFERS, _HTML)

_UTF8 = frozenset({"utf-8", "utf8"})

BUFFERED_BODIES = 16
"""Bodies of the largest allowed size (``GATEWAY_MAX_BODY_BYTES``) one process reads at once:
16 MiB with the default 1 MiB limit (README "Sizing memory")."""
_USER_ERROR_CODE = "BAD_USER_INPUT"
_INTERNAL_ERROR_CODE = "INTERNAL_SERVER_ERROR"
_INTERNAL_ERROR_MESSAGE = "Internal server error."

MAX_MESSAGE_CHARS = 1_000
"""Longest error message a client gets; a longer one is cut, with a marker saying so.

graphql-core copies client input into messages verbatim (an unknown input field's name, a
scalar's refused value), so one 1 MiB key made a 1 MiB message. Every message the gateway or
graphql-core writes on purpose is shorter: graphql-core cuts printed values at 240 characters
and field-conflict details at 1,000 (its `MAX_CONFLICT_DETAIL_LENGTH`, the same figure); the
gateway's longest are under 300."""

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
    `gateway.observability.telemetry`).
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        context_getter: ContextGetter,
        graphiql: GraphiQLRenderer | None = None,
        max_body_bytes: int = 1_048_576,
        persisted: DocumentPolicy | None = None,
        telemetry: RequestTelemetry | None = None,
    ) -> None:
        self._telemetry = telemetry or RequestTelemetry()
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
            # Sent, failed or cancelled: the request's memory reservation goes back.
            response_sent = getattr(request.state, "response_sent", None)
            if response_sent is not None:
                response_sent()

    async def handle(self, request: Request) -> Response:
        """Answer one HTTP request; never raises for anything a client can send."""
        if request.method not in ("GET", "POST"):
            return _error_response(
                JSON, 405, "GraphQL is served over GET and POST only.", {"Allow": "GET, POST"}
            )

        offers = _GET_OFFERS if request.method == "GET" and self._graphiql else _GRAPHQL_OFFERS
        media_type = negotiate(request.headers.get("accept"), offers)
        if media_type is None:
            return _error_response(
                JSON, 406, f"Acceptable media types: {GRAPHQL_RESPONSE_JSON}, {JSON}."
            )
        if media_type == _HTML and self._graphiql is not None:
            not_a_graphql_request()
            page = self._graphiql(request)
            page.headers.add_vary_header("Accept")
            return page

        try:
            params = await self._read_params(request)
        except _Rejection as rejection:
            return _error_response(
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
            return _error_response(
                media_type, error.http_status, error.message, extensions=error.extensions()
            )
        except Exception:
            logger.exception("building the GraphQL context failed")
            return _error_response(
                media_type,
                500,
                _INTERNAL_ERROR_MESSAGE,
                extensions={"code": _INTERNAL_ERROR_CODE},
            )

        request.state.response_sent = getattr(context, "response_sent", None)

        if self._persisted is not None:
            try:
                query = await self._persisted.resolve(
                    params.query if params.has_query else None, params.extensions
                )
            except PersistedQueryError as error:
                return _error_response(
                    media_type,
                    error.http_status,
                    error.message,
                    error.headers,
                    extensions=error.extensions(),
                )
            params = replace(params, query=query, has_query=True)
        elif not params.has_query:
            return _error_response(media_type, 400, 'The request has no "query".')

        return await self._execute(request.method, params, context, media_type)

    async def _read_params(self, request: Request) -> GraphQLParams:
        if request.method == "GET":
            return GraphQLParams.from_query_string(request.query_params)

        media, parameters = _parse_media_type(request.headers.get("content-type", ""))
        if media not in (JSON, _GRAPHQL):
            raise _Rejection(415, f"POST bodies must be {JSON} (or {_GRAPHQL}).")
        if parameters.get("charset", "utf-8") not in _UTF8:
            raise _Rejection(415, "Request bodies must be encoded in UTF-8.")

        body = await self._read_body(request)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise _Rejection(400, "The request body is not valid UTF-8.") from None

        if media == _GRAPHQL:
            return GraphQLParams(query=text)
        if not text.strip():
            raise _Rejection(400, "The request body is empty; expected a JSON object.")
        try:
            # orjson, not the stdlib: it refuses lone UTF-16 surrogates ("\ud800"), which
            # nothing downstream could encode again.
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Rejection(400, "The request body is not valid JSON.") from None
        return GraphQLParams.from_json(payload)

    async def _read_body(self, request: Request) -> bytes:
        # Refuse by the declared length first, then count what actually arrives (chunked
        # bodies declare none), so an oversized body is never held in memory.
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise _too_large(self._max_body_bytes)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                if size + len(chunk) > self._max_body_bytes:
                    raise _too_large(self._max_body_bytes)
                size += len(chunk)
                self._buffered_bodies += len(chunk)
                chunks.append(chunk)
                if self._buffered_bodies > self._max_buffered_bodies:
                    raise _Rejection(
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
                return _error_response(
                    media_type,
                    405,
                    "Mutations are not allowed over GET; use POST.",
                    {"Allow": "POST"},
                )
            return _request_error_response(media_type, "Subscriptions are not supported over HTTP.")
        except CannotGetOperationTypeError as error:
            return _request_error_response(media_type, error.as_http_error_reason())
        except MissingQueryError:
            # An empty document is still a well-formed request whose document does not parse.
            return _request_error_response(media_type, "Syntax Error: Unexpected <EOF>.")
        finally:
            # The answer is decided: nothing this request started may keep running (an upstream
            # call of a field that graphql-core gave up on would hold a slot until the deadline).
            cancel_pending = getattr(context, "cancel_pending", None)
            if cancel_pending is not None:
                cancel_pending()

        return _result_response(result, media_type)


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The parameters of one GraphQL-over-HTTP request, checked for type.

    `has_query` is False for a persisted-query request that sent only the document's hash
    (`extensions.persistedQuery`); `query` is then empty until the endpoint's `DocumentPolicy`
    fills it in.
    """

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    has_query: bool = True

    @classmethod
    def from_json(cls, payload: object) -> GraphQLParams:
        """From a decoded POST body; raises `_Rejection` (400) when it is not well formed."""
        if not isinstance(payload, dict):
            raise _Rejection(400, "The request body must be a JSON object.")
        query = payload.get("query")
        extensions = _optional_map(payload.get("extensions"), "extensions")
        if query is None and not _names_persisted_query(extensions):
            raise _Rejection(400, 'The request has no "query".')
        if query is not None and not isinstance(query, str):
            raise _Rejection(400, '"query" must be a string.')
        operation_name = payload.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise _Rejection(400, '"operationName" must be a string.')
        return cls(
            query=query or "",
            variables=_optional_map(payload.get("variables"), "variables"),
            # The spec treats an empty operationName as an omitted one.
            operation_name=operation_name or None,
            extensions=extensions,
            has_query=query is not None,
        )

    @classmethod
    def from_query_string(cls, query_params: Mapping[str, str]) -> GraphQLParams:
        """From GET query parameters, where `variables` and `extensions` are JSON strings."""
        query = query_params.get("query")
        extensions = _optional_map(_json_parameter(query_params, "extensions"), "extensions")
        if query is None and not _names_persisted_query(extensions):
            raise _Rejection(400, 'The request has no "query" parameter.')
        return cls(
            query=query or "",
            variables=_optional_map(_json_parameter(query_params, "variables"), "variables"),
            operation_name=query_params.get("operationName") or None,
            extensions=extensions,
            has_query=query is not None,
        )


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the `Accept` header prefers, or None when it accepts none of them.

    Per RFC 9110 §12.5.1, each offer takes the quality of the most specific range matching it
    (`q=0` refuses it). The highest quality wins; ties go to the more specific match, then to
    the range the client listed first, then to the order of `offers`. A missing or empty header
    accepts anything. Ranges naming a charset other than UTF-8 match nothing: we only speak
    UTF-8.
    """
    if accept is None or not accept.strip():
        return offers[0]
    ranges = _parse_accept(accept)
    best: tuple[float, int, int, int] | None = None
    chosen: str | None = None
    for offer_rank, offer in enumerate(offers):
        offer_type, _, offer_subtype = offer.partition("/")
        match: tuple[int, float, int] | None = None  # (specificity, quality, position)
        for position, (range_type, range_subtype, quality) in enumerate(ranges):
            if range_type == "*" and range_subtype == "*":
                specificity = 0
            elif range_type == offer_type and range_subtype == "*":
                specificity = 1
            elif range_type == offer_type and range_subtype == offer_subtype:
                specificity = 2
            else:
                continue
            if match is None or specificity > match[0]:
                match = (specificity, quality, position)
        if match is None or match[1] <= 0:
            continue
        specificity, quality, position = match
        key = (quality, specificity, -position, -offer_rank)
        if best is None or key > best:
            best, chosen = key, offer
    return chosen


def format_error(error: GraphQLError) -> dict[str, Any]:
    """One entry of a response's `errors`, safe to show to any client.

    - the gateway's own errors (`GatewayError`, anywhere in the cause chain) keep their message
      and `extensions()`;
    - errors that already carry an `extensions.code` were shaped on purpose and pass unchanged;
    - GraphQL request errors (parse, validation, variable coercion: no `path`) get
      `BAD_USER_INPUT`, including those caused by a scalar refusing a value (graphql-core
      keeps the scalar's exception as the cause and its text in the message, on purpose);
    - everything else is a bug: message replaced, code `INTERNAL_SERVER_ERROR`. The original
      stays in the server log (Strawberry's `process_errors` logs it with its traceback).
    """
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": location.line, "column": location.column} for location in error.locations
        ]
    if error.path is not None:
        formatted["path"] = list(error.path)

    cause = _root_cause(error)
    if isinstance(cause, GatewayError):
        formatted["message"] = cause.message
        formatted["extensions"] = {**(error.extensions or {}), **cause.extensions()}
    elif error.extensions and "code" in error.extensions:
        formatted["extensions"] = dict(error.extensions)
    elif error.path is None and (cause is None or error.locations):
        # A request error points into the document. A pathless error with a foreign cause and
        # no location is Strawberry reporting an exception raised before execution: a bug.
        formatted["extensions"] = {**(error.extensions or {}), "code": _USER_ERROR_CODE}
    else:
        formatted["message"] = _INTERNAL_ERROR_MESSAGE
        formatted["extensions"] = {"code": _INTERNAL_ERROR_CODE}
    formatted["message"] = cap_message(formatted["message"])
    return formatted


def cap_message(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE_CHARS`, with a marker saying how much went."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}... [{len(message) - MAX_MESSAGE_CHARS} more characters]"


# --- responses -------------------------------------------------------------------------------


def _result_response(result: ExecutionResult, media_type: str) -> Response:
    errors = [format_error(error) for error in result.errors or ()]
    if _never_executed(result):
        # No `data` key at all: the spec's signal that execution did not start.
        status = 200 if media_type == JSON else _pre_execution_status(errors)
        capacity = _at_capacity(result)
        if capacity is not None:
            # Not the request's fault, whatever the media type: the server is busy.
            retry = {"Retry-After": str(capacity.retry_after)}
            return _json_response(media_type, capacity.http_status, {"errors": errors}, retry)
        return _json_response(media_type, status, {"errors": errors}, _auth_challenge(status))

    body: dict[str, Any] = {}
    if errors:
        body["errors"] = errors
    body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return _json_response(media_type, 200, body)


def _at_capacity(result: ExecutionResult) -> GatewayAtCapacity | None:
    """The memory-admission refusal among the result's errors, if any."""
    for error in result.errors or ():
        cause = _root_cause(error)
        if isinstance(cause, GatewayAtCapacity):
            return cause
    return None


def _never_executed(result: ExecutionResult) -> bool:
    if isinstance(result, PreExecutionError):  # parse and validation errors
        return True
    # graphql-core reports variable-coercion and operation-selection failures as `data: None`
    # with errors that have no path; a field error always has a path, even when it nulls the
    # whole `data`.
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


# The HTTP status each contract code means when it stops a request before execution. Codes not
# listed here are Kombo's own (an `UpstreamError`).
_STATUS_BY_CODE: dict[str, int] = {
    **{
        error_class.code: error_class.http_status
        for error_class in (
            BadUserInput,
            Unauthenticated,
            Forbidden,
            QueryTooComplex,
            UpstreamUnavailable,
        )
    },
    _INTERNAL_ERROR_CODE: 500,
}


def _pre_execution_status(errors: Sequence[Mapping[str, Any]]) -> int:
    """The 4xx/5xx of a response without `data` (graphql-response+json only): the gravest
    status among its errors' codes, judged after `format_error` so that errors shaped by a
    schema extension count the same as raw ones."""
    return max(
        (
            _STATUS_BY_CODE.get(error.get("extensions", {}).get("code"), UpstreamError.http_status)
            for error in errors
        ),
        default=400,
    )


def _request_error_response(media_type: str, message: str) -> Response:
    """A GraphQL request error found before execution (no `data`): 200 or 400 by media type."""
    status = 200 if media_type == JSON else 400
    return _error_response(media_type, status, message)


def _error_response(
    media_type: str,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    error = {"message": message, "extensions": dict(extensions or {"code": _USER_ERROR_CODE})}
    return _json_response(
        media_type, status, {"errors": [error]}, {**_auth_challenge(status), **(headers or {})}
    )


def _auth_challenge(status: int) -> dict[str, str]:
    # RFC 9110 §11.6.1: a 401 must say which scheme would be accepted.
    return {"WWW-Authenticate": "Bearer"} if status == 401 else {}


def encode_json(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; orjson is ~10x faster than the stdlib on large results."""
    try:
        return orjson.dumps(body)
    except (orjson.JSONEncodeError, TypeError):
        # Values orjson refuses (integers beyond 64 bits in remoteData, say): the stdlib takes them.
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def _json_response(
    media_type: str,
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> Response:
    content = encode_json(body)
    if "errors" in body:
        note_errors(body["errors"])
    return Response(
        content,
        status_code=status,
        headers={
            "Content-Type": f"{media_type}; charset=utf-8",
            "Vary": "Accept",
            **(headers or {}),
        },
    )


# --- request parsing -------------------------------------------------------------------------


class _Rejection(Exception):
    """A request that is not a well-formed GraphQL-over-HTTP request; answered, not raised."""

    def __init__(
        self,
        status: int,
        message: str,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extensions = extensions
        self.headers = headers


def _too_large(limit: int) -> _Rejection:
    return _Rejection(413, f"The request body exceeds {limit} bytes.")


def _optional_map(value: object, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Rejection(400, f'"{name}" must be a JSON object.')
    return value


def _names_persisted_query(extensions: Mapping[str, Any] | None) -> bool:
    # A request may omit its `query` when it names a persisted one by hash (APQ).
    return extensions is not None and extensions.get("persistedQuery") is not None


def _json_parameter(query_params: Mapping[str, str], name: str) -> object:
    raw = query_params.get(name)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _Rejection(400, f'The "{name}" parameter is not valid JSON.') from None


def _parse_media_type(header: str) -> tuple[str, dict[str, str]]:
    """`'Application/JSON; charset="UTF-8"'` -> `('application/json', {'charset': 'utf-8'})`."""
    media, *raw_parameters = header.split(";")
    parameters: dict[str, str] = {}
    for raw in raw_parameters:
        name, _, value = raw.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), parameters


def _parse_accept(header: str) -> list[tuple[str, str, float]]:
    """Accept's media ranges as `(type, subtype, quality)`, malformed ones dropped."""
    ranges: list[tuple[str, str, float]] = []
    for item in header.split(","):
        media, parameters = _parse_media_type(item)
        range_type, slash, range_subtype = media.partition("/")
        if not slash or not range_type or not range_subtype:
            continue
        if parameters.get("charset", "utf-8") not in _UTF8:
            continue
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            continue
        ranges.append((range_type, range_subtype, min(max(quality, 0.0), 1.0)))
    return ranges


def _root_cause(error: GraphQLError) -> BaseException | None:
    """The innermost non-GraphQL exception behind `error`, or None if GraphQL raised it."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause
