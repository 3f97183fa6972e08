"""Turn exceptions into the contract's GraphQL errors, and mask everything unexpected.

A :class:`~gateway.errors.GatewayError` keeps its message and gets its ``extensions`` (the
contract's code, and for upstream errors Kombo's title, log URL and status). Parse and validation
errors are ``BAD_USER_INPUT``. Anything else is a bug: the client sees ``INTERNAL_SERVER_ERROR``
and a request id; the server log has the full traceback under the same id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import GatewayError

log = logging.getLogger("gateway.errors")


def translate_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """One GraphQL error as the client should see it."""
    original = error.original_error
    # graphql-core may wrap a resolver's GraphQLError in another; the inner one says what happened.
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = original.extensions()
        message = original.message
    elif error.extensions and "code" in error.extensions:
        return error
    elif error.path is None and (
        original is None or error.locations or isinstance(original, GraphQLError)
    ):
        # Parsing, validation or variable coercion (whose message carries our scalar's
        # explanation): the request is at fault, and nothing ran.
        extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        message = error.message
    elif isinstance(original, GraphQLError):
        extensions = {**(original.extensions or {}), "code": "INTERNAL_SERVER_ERROR"}
        message = original.message
    elif original is None:
        # graphql-core's own execution errors (e.g. null for a non-null field): ours to fix.
        log.error("execution error at %s (request %s): %s", error.path, request_id, error.message)
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        message = error.message
    else:
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()) or "operation",
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        message = "Internal server error."
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
        # The endpoint reads what a gateway error asks of HTTP (503's Retry-After) from it.
        original_error=original if isinstance(original, GatewayError) else None,
    )


class ContractErrors(SchemaExtension):
    """Apply :func:`translate_error` to every error of the result."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is None or not errors:
            return
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        result.errors = [translate_error(e, request_id) for e in errors]
