"""The answers of the GraphQL endpoint: a GraphQL result or a request error, serialized.

The status code of a GraphQL response (README "Routes"): with `application/graphql-response+json`,
a request that never reached execution (parse, validation or variable-coercion errors; no `data`
key) takes the gravest status of its errors' codes (:func:`gateway.errors.code_policy`),
everything else 200; with `application/json`, 200 for every well-formed request. The errors
are shaped by :func:`gateway.schema.error_handling.translate_error`; here they are only
serialized, their messages cut at :data:`MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gateway.errors import BadUserInput, GatewayAtCapacity, code_policy
from gateway.http.negotiation import JSON
from gateway.observability.telemetry import note_errors
from gateway.schema.error_handling import translate_error

__all__ = [
    "MAX_MESSAGE_CHARS",
    "GraphQLResponse",
    "cap_message",
    "encode_json",
    "error_body",
    "error_response",
    "request_error_response",
    "result_response",
]

MAX_MESSAGE_CHARS = 1_000
"""Longest error message a client gets; a longer one is cut, with a marker saying so.

graphql-core copies client input into messages verbatim (an unknown input field's name, a
scalar's refused value), so one 1 MiB key made a 1 MiB message. Every message the gateway or
graphql-core writes on purpose is shorter: graphql-core cuts printed values at 240 characters
and field-conflict details at 1,000 (its `MAX_CONFLICT_DETAIL_LENGTH`, the same figure); the
gateway's longest are under 300."""


class GraphQLResponse(Response):
    """A GraphQL answer, JSON; `complete` when it is a 200 holding `data` and no error: the only
    kind a cache may keep (:mod:`gateway.http.caching`)."""

    complete: bool = False


def result_response(result: ExecutionResult, media_type: str, request_id: str | None) -> Response:
    """The answer to a request that reached the schema. Errors that did not pass its shaping
    (an exception raised before execution) are shaped here the same way."""
    shaped = [translate_error(error, request_id) for error in result.errors or ()]
    errors = [error_body(error) for error in shaped]
    if never_executed(result):
        # No `data` key at all: the spec's signal that execution did not start.
        status = 200 if media_type == JSON else _pre_execution_status(errors)
        capacity = _at_capacity(shaped)
        if capacity is not None:
            # Not the request's fault, whatever the media type: the server is busy.
            retry = {"Retry-After": str(capacity.retry_after)}
            return _json_response(media_type, capacity.http_status, {"errors": errors}, retry)
        return _json_response(media_type, status, {"errors": errors}, _auth_challenge(status))

    return _json_response(media_type, 200, result_body(result, errors))


def result_body(result: ExecutionResult, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The response of an operation that executed: its serialized ``errors`` (when any), then
    ``data`` and ``extensions``, in the spec's order (every transport answers it so)."""
    body: dict[str, Any] = {}
    if errors:
        body["errors"] = errors
    body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def error_body(error: GraphQLError) -> dict[str, Any]:
    """One entry of a response's `errors`: a shaped error as the spec formats it, its message
    cut at :data:`MAX_MESSAGE_CHARS`."""
    formatted: dict[str, Any] = dict(error.formatted)
    formatted["message"] = cap_message(formatted["message"])
    return formatted


def cap_message(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE_CHARS`, with a marker saying how much went."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return f"{message[:MAX_MESSAGE_CHARS]}... [{len(message) - MAX_MESSAGE_CHARS} more characters]"


def _at_capacity(errors: Sequence[GraphQLError]) -> GatewayAtCapacity | None:
    """The memory-admission refusal among the (shaped) errors, if any."""
    for error in errors:
        if isinstance(error.original_error, GatewayAtCapacity):
            return error.original_error
    return None


def never_executed(result: ExecutionResult) -> bool:
    """Whether execution never started (parse, validation, variables, operation selection):
    then the answer has ``errors`` and no ``data`` key at all."""
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


def _pre_execution_status(errors: Sequence[Mapping[str, Any]]) -> int:
    """The 4xx/5xx of a response without `data` (graphql-response+json only): the gravest
    status among its errors' codes."""
    return max(
        (code_policy(error.get("extensions", {}).get("code")).http_status for error in errors),
        default=400,
    )


def request_error_response(media_type: str, message: str) -> Response:
    """A GraphQL request error found before execution (no `data`): 200 or 400 by media type."""
    status = 200 if media_type == JSON else 400
    return error_response(media_type, status, message)


def error_response(
    media_type: str,
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    error = {"message": message, "extensions": dict(extensions or {"code": BadUserInput.code})}
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
    response = GraphQLResponse(
        content,
        status_code=status,
        headers={
            "Content-Type": f"{media_type}; charset=utf-8",
            "Vary": "Accept",
            **(headers or {}),
        },
    )
    response.complete = status == 200 and "errors" not in body and "data" in body
    return response
