"""Cheap bounds on the document, checked before graphql-core's validation (README "Limits").

graphql-core's validation walks the whole document once per rule set (about 30 rules in one
``ParallelVisitor``, with a ``TypeInfo``), and a few rules do more than linear work. Measured on
the worst documents that fit the 1 MiB body and the 10,000-token limit
(``python -m bench.hostile.documents``): 2,000 operations took 500 ms of server CPU, 3,300
spreads of one fragment 340 ms, 1,400 repeated directives 220 ms, 100 aliased ``__schema``
introspections 1.1 s.

So before validation one iterative pass over the parsed document counts what no real document
needs much of (:data:`MAX_OPERATIONS`, :data:`MAX_FIELDS`, :data:`MAX_FRAGMENT_SPREADS`,
:data:`MAX_DIRECTIVES_PER_LOCATION`, :data:`MAX_SCHEMA_FIELDS`, :data:`MAX_TYPE_FIELDS`) and
refuses the document with ``QUERY_TOO_COMPLEX`` (validation then never runs), as it does a list
written in the document longer than any argument accepts
(:data:`~gateway.schema.limits.variable_bounds.MAX_LIST_ITEMS`). The pass is linear in what the
client sent, which the body and token limits already bound; the raw variables have their own
bounds (:mod:`gateway.schema.limits.variable_bounds`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
)
from strawberry.extensions import SchemaExtension

from gateway.errors import QueryTooComplex
from gateway.schema.limits.variable_bounds import MAX_LIST_ITEMS

__all__ = [
    "MAX_DIRECTIVES_PER_LOCATION",
    "MAX_FIELDS",
    "MAX_FRAGMENT_SPREADS",
    "MAX_OPERATIONS",
    "MAX_SCHEMA_FIELDS",
    "MAX_TYPE_FIELDS",
    "MAX_VARIABLES",
    "DocumentBounds",
    "document_bound_exceeded",
]

MAX_OPERATIONS = 100
"""Operations in one document (a client sends one; a few tools send a handful)."""
MAX_VARIABLES = 100
"""Variable definitions of one operation (700 wrongly typed ones took 110 ms to validate)."""
MAX_FIELDS = 2_000
"""Field selections written in one document, fragments counted once. GraphiQL's full
introspection query has 72, the benchmark's all-fields document 54, twenty aliased all-fields
connections (``bench.hostile.memory``) about 1,200."""
MAX_FRAGMENT_SPREADS = 200
"""Fragment spreads written in one document."""
MAX_DIRECTIVES_PER_LOCATION = 10
"""Directives on one field, fragment or operation (no directive of this schema repeats)."""
MAX_SCHEMA_FIELDS = 1
"""``__schema`` fields in one document: each answers the whole schema (about 50 ms of CPU for
GraphiQL's introspection query); GraphiQL asks once."""
MAX_TYPE_FIELDS = 10
"""``__type`` fields in one document."""


def _exceeds(what: str, value: int, limit: int) -> str:
    return f"{what} {value} exceeds the limit of {limit}"


def document_bound_exceeded(document: DocumentNode) -> str | None:
    """Why ``document`` is refused before validation, or None. One pass, no recursion,
    stopping at the first bound exceeded."""
    operations = fields = spreads = schemas = types = 0
    pending: list[SelectionSetNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations += 1
            if operations > MAX_OPERATIONS:
                return _exceeds("operation count", operations, MAX_OPERATIONS)
            variables = len(definition.variable_definitions or ())
            if variables > MAX_VARIABLES:
                return _exceeds("variable count", variables, MAX_VARIABLES)
            for variable in definition.variable_definitions or ():
                default = variable.default_value
                if default is not None and (refusal := _list_literal_refusal(default)):
                    return refusal
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            if len(definition.directives or ()) > MAX_DIRECTIVES_PER_LOCATION:
                return _directives(definition)
            pending.append(definition.selection_set)
    while pending:
        for selection in pending.pop().selections:
            if len(selection.directives or ()) > MAX_DIRECTIVES_PER_LOCATION:
                return _directives(selection)
            if isinstance(selection, FieldNode):
                fields += 1
                if fields > MAX_FIELDS:
                    return _exceeds("field count", fields, MAX_FIELDS)
                for argument in selection.arguments or ():
                    if (refusal := _list_literal_refusal(argument.value)) is not None:
                        return refusal
                name = selection.name.value
                if name == "__schema":
                    schemas += 1
                    if schemas > MAX_SCHEMA_FIELDS:
                        return _exceeds("__schema field count", schemas, MAX_SCHEMA_FIELDS)
                elif name == "__type":
                    types += 1
                    if types > MAX_TYPE_FIELDS:
                        return _exceeds("__type field count", types, MAX_TYPE_FIELDS)
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                spreads += 1
                if spreads > MAX_FRAGMENT_SPREADS:
                    return _exceeds("fragment spread count", spreads, MAX_FRAGMENT_SPREADS)
    return None


def _list_literal_refusal(value: ValueNode) -> str | None:
    """A list written in the document with more items than any argument accepts (as for
    variables, :data:`MAX_LIST_ITEMS`): 2,400 wrongly typed items took up to 130 ms of
    validation. Iterative, so nesting cannot overflow the stack."""
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, ListValueNode):
            if len(node.values) > MAX_LIST_ITEMS:
                return _exceeds("list literal length", len(node.values), MAX_LIST_ITEMS)
            pending.extend(node.values)
        elif isinstance(node, ObjectValueNode):
            pending.extend(field.value for field in node.fields)
    return None


def _directives(node: Any) -> str:
    return _exceeds(
        "directive count on one location", len(node.directives), MAX_DIRECTIVES_PER_LOCATION
    )


class DocumentBounds(SchemaExtension):
    """Refuses a document past :func:`document_bound_exceeded` in place of validation
    (Strawberry skips validating when errors are already there): ``QUERY_TOO_COMPLEX``, no
    ``data``, before any rule, estimate or resolver runs."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            reason = document_bound_exceeded(document)
            if reason is not None:
                message = f"{reason}: the document was not validated"
                context.pre_execution_errors = [
                    GraphQLError(message, original_error=QueryTooComplex(message))
                ]
        yield
