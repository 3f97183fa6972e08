"""The one place GraphQL errors are shaped for clients (README "Errors").

:func:`translate_error` gives every error its contract code and a message safe to show:

- a :class:`~gateway.errors.GatewayError` anywhere in the cause chain keeps its message and gets
  its ``extensions()`` (the contract's code, and for upstream errors Kombo's title, log URL and
  status);
- an error already carrying an ``extensions.code`` was shaped on purpose and passes unchanged;
- parse, validation and variable-coercion errors (no ``path``, pointing into the document, or
  caused by a scalar refusing a value) are ``BAD_USER_INPUT``;
- everything else is a bug: ``INTERNAL_SERVER_ERROR`` with the request id, the full traceback in
  the server log under the same id. The message of a foreign exception is masked; graphql-core's
  own completion messages ("Boolean cannot represent a non boolean value") are kept.

The schema applies it to every result (:class:`ContractErrors`); the HTTP endpoint applies it to
what reaches it without passing the schema's extensions (an exception raised before execution),
a no-op on errors already shaped, and only serializes the result.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.errors import INTERNAL_SERVER_ERROR, BadUserInput, GatewayError

__all__ = ["ContractErrors", "translate_error"]

log = logging.getLogger("gateway.errors")

_MASKED_MESSAGE = GatewayError.default_message  # "Internal server error."


def translate_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    """One GraphQL error as the client should see it (see the module docstring)."""
    original = error.original_error
    # graphql-core may wrap a resolver's GraphQLError in another; the inner one says what happened.
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if isinstance(original, GatewayError):
        extensions: dict[str, Any] = {**(error.extensions or {}), **original.extensions()}
        message = original.message
    elif error.extensions and "code" in error.extensions:
        return error
    elif error.path is None and (
        original is None or error.locations or isinstance(original, GraphQLError)
    ):
        # Parsing, validation or variable coercion (whose message carries our scalar's
        # explanation): the request is at fault, and nothing ran. A pathless error with a
        # foreign cause and no location is an exception raised before execution: a bug, below.
        extensions = {**(error.extensions or {}), "code": BadUserInput.code}
        message = error.message
    elif original is None or isinstance(original, GraphQLError):
        # graphql-core's own execution errors (a leaf value its scalar cannot serialize):
        # ours to fix, and its message says about the data what is wrong.
        log.error("execution error at %s (request %s): %s", error.path, request_id, error.message)
        extensions = _internal(request_id)
        message = error.message
    else:
        log.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or ()) or "operation",
            request_id,
            exc_info=(type(original), original, original.__traceback__),
        )
        extensions = _internal(request_id)
        message = _MASKED_MESSAGE
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


def _internal(request_id: str | None) -> dict[str, Any]:
    # The request id finds the traceback in the server log; none outside a request.
    if request_id is None:
        return {"code": INTERNAL_SERVER_ERROR}
    return {"code": INTERNAL_SERVER_ERROR, "requestId": request_id}


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
