"""Which operation of a document runs: the GraphQL spec's GetOperation (§6.1), README "Limits"."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from gateway.errors import BadUserInput

__all__ = ["RequireOperationName"]

# graphql-core's wording (its `execute` says the same when called directly).
MISSING_OPERATION_NAME = "Must provide operation name if query contains multiple operations."


class RequireOperationName(SchemaExtension):
    """A document with several operations and no ``operationName`` is a request error.

    Strawberry runs the first operation in that case (its ``operation_name`` falls back to the
    first one's); the spec requires an error. Checked once the document is parsed, in place of
    validation (Strawberry skips validating when errors are already there, and answers with
    them): the request ends with ``BAD_USER_INPUT`` and no ``data`` (HTTP 400 under
    ``application/graphql-response+json``), before the cost estimate or any resolver.
    """

    def on_validate(self) -> Iterator[None]:
        self._check()
        yield

    def _check(self) -> None:
        context = self.execution_context
        document = context.graphql_document
        # `operation_name` falls back to the first operation's name; what the client sent is
        # only kept privately (the endpoint turns an empty operationName into None).
        provided = getattr(context, "_provided_operation_name", None)
        if document is None or provided or context.pre_execution_errors is not None:
            return
        operations = 0
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations += 1
                if operations > 1:
                    context.pre_execution_errors = [
                        GraphQLError(
                            MISSING_OPERATION_NAME,
                            original_error=BadUserInput(MISSING_OPERATION_NAME),
                        )
                    ]
                    return
