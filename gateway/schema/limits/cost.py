"""The estimated cost of an operation (``GATEWAY_MAX_COST``, ``GATEWAY_MAX_ESTIMATED_CALLS``): the
interviews it may fetch and the upstream calls it may make, from the document and the
variables' values, before any resolver runs (README "Limits"). :mod:`.cost_limit` refuses what
is over the limits.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    is_abstract_type,
    is_object_type,
    type_from_ast,
)
from graphql.execution.values import VariableValues

from gateway.kombo import MAX_PAGE_SIZE

__all__ = [
    "CONNECTION_FIELDS",
    "ID_LOOKUPS",
    "MAX_COERCION_ERRORS",
    "CostEstimate",
    "estimate_cost",
]


CONNECTION_FIELDS: frozenset[tuple[str, str]] = frozenset(
    {("Query", "interviews"), ("Job", "interviews")}
)
"""Fields that fetch one upstream page of ``first`` interviews each time they resolve."""

ID_LOOKUPS: Mapping[tuple[str, str], str] = {
    ("Query", "interview"): "id",
    ("Query", "node"): "id",
    ("Query", "nodes"): "ids",
}
"""Fields that look interviews up by id (batched per request), with the argument naming them."""


MAX_COERCION_ERRORS = 1
"""Variable-coercion errors reported before coercion stops, in the cost estimate and in
execution (:class:`gateway.schema.GatewaySchema`): the first error, then graphql-core's "Too many
errors processing variables" (each error costs time linear in the offending value)."""


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What an operation may cost: interviews fetched, and upstream calls made."""

    nodes: int
    upstream_calls: int


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> CostEstimate | None:
    """The estimated cost of the operation that would execute; None when it cannot execute.

    Fields are collected as execution collects them (same response key merged, ``@skip`` and
    ``@include`` applied, fragments whose type does not apply left out), with every argument
    coerced from literals, variables and defaults. Walking down from the root with a
    *multiplier* of 1 (how many times a field resolves: the product of the list sizes above it):

    - a connection field (``Query.interviews``, ``Job.interviews``) costs ``multiplier * first``
      nodes and ``multiplier`` upstream calls (one page each time it resolves); below it the
      multiplier is ``multiplier * first``. ``first`` defaults to 100; a ``first`` outside
      1..250 costs nothing, since the resolver refuses it (``BAD_USER_INPUT``) unfetched;
    - an id lookup costs one node per id (``interview``/``node``: 1; ``nodes``: one per id, and
      the multiplier below it is ``multiplier * len(ids)``); all ids of the request together cost
      one upstream call per 250, as the loader batches them;
    - every other field is free: nested objects come embedded in the interview payload;
      introspection is answered from memory.

    So ``interviews(first: 250) { nodes { application { job { interviews(first: 250) { ... }``
    costs 250 + 250 * 250 = 62,750 nodes and 1 + 250 = 251 upstream calls. The estimate is an
    upper bound except for one case: resuming mid-page with a larger ``first`` than the cursor's
    page may stitch several pages; the run-time :class:`UpstreamBudget` covers that. It is over
    where the request memoizes (the same job's interviews under several interviews are fetched
    once) or pages come back short.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    # Stop at the first error, as execution does (MAX_COERCION_ERRORS): graphql-core prints the
    # offending object (a list of all its items) into every error, so 16,000 unknown keys of
    # one input object took 18 s here, and 1 MiB of them minutes, before this bound.
    coerced = get_variable_values(
        schema,
        operation.variable_definitions or (),
        dict(variables or {}),
        max_errors=MAX_COERCION_ERRORS,
    )
    if not isinstance(coerced, VariableValues):
        return None  # execution reports the variables' errors, before any resolver runs
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    collect = functools.partial(_collect_fields, schema, fragments, coerced)

    nodes = calls = looked_up = 0
    pending: list[tuple[GraphQLObjectType, list[FieldNode], int]] = [
        (root, fields, 1) for fields in collect(root, [operation.selection_set]).values()
    ]
    while pending:
        parent, fields, multiplier = pending.pop()
        name = fields[0].name.value
        definition = parent.fields.get(name)
        if definition is None or name.startswith("__"):
            continue
        key = (parent.name, name)
        below = multiplier
        if key in CONNECTION_FIELDS:
            first = get_argument_values(definition, fields[0], coerced).get("first")
            size = first if isinstance(first, int) and 1 <= first <= MAX_PAGE_SIZE else 0
            nodes += multiplier * size
            calls += multiplier
            below = multiplier * size
        elif key in ID_LOOKUPS:
            ids = get_argument_values(definition, fields[0], coerced).get(ID_LOOKUPS[key])
            count = len(ids) if isinstance(ids, list) else 1
            nodes += multiplier * count
            looked_up += multiplier * count
            below = multiplier * count
        named = get_named_type(definition.type)
        if is_object_type(named) or is_abstract_type(named):
            # An interface's implementations are each counted: an upper bound (exact today,
            # as `Node` has one).
            possible = [named] if is_object_type(named) else schema.get_possible_types(named)  # type: ignore[arg-type]
            selections = [f.selection_set for f in fields if f.selection_set]
            for runtime in possible:
                for subfields in collect(runtime, selections).values():
                    pending.append((runtime, subfields, below))
    return CostEstimate(nodes=nodes, upstream_calls=calls + math.ceil(looked_up / MAX_PAGE_SIZE))


def _collect_fields(
    schema: GraphQLSchema,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: VariableValues,
    runtime: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
) -> dict[str, list[FieldNode]]:
    """The spec's CollectFields (§6.3.2) over several selection sets at once: the field nodes
    that execute as one field, by response key."""
    collected: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    pending = list(reversed(list(selection_sets)))
    while pending:
        for selection in pending.pop().selections:
            if not _included(selection, variables):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                collected.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if _applies(schema, selection.type_condition, runtime):
                    pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if name in visited or fragment is None:
                    continue
                visited.add(name)
                if _applies(schema, fragment.type_condition, runtime):
                    pending.append(fragment.selection_set)
    return collected


def _included(selection: Any, variables: VariableValues) -> bool:
    skip = get_directive_values(GraphQLSkipDirective, selection, variables)
    if skip is not None and skip.get("if") is True:
        return False
    include = get_directive_values(GraphQLIncludeDirective, selection, variables)
    return not (include is not None and include.get("if") is False)


def _applies(schema: GraphQLSchema, condition: Any, runtime: GraphQLObjectType) -> bool:
    if condition is None:
        return True
    conditional = type_from_ast(schema, condition)
    if conditional is runtime:
        return True
    return is_abstract_type(conditional) and schema.is_sub_type(conditional, runtime)  # type: ignore[arg-type]
