"""The estimated cost of an operation (``GATEWAY_MAX_COST``, ``GATEWAY_MAX_ESTIMATED_CALLS``): the
records it may fetch and the upstream calls it may make, from the document and the variables'
values, before any resolver runs (README "Limits"). :mod:`.cost_limit` refuses what is over the
limits. What each field costs comes from the catalog (:mod:`gateway.kombo.catalog`): its
connections, lookups, references and inline records.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_argument_values,
    get_directive_values,
    get_named_type,
    get_operation_ast,
    get_variable_values,
    is_abstract_type,
    is_object_type,
    type_from_ast,
    visit,
)
from graphql.execution.values import VariableValues

from gateway.kombo import MAX_PAGE_SIZE
from gateway.kombo.catalog import CATALOG, ListShape, ObjectShape, camel
from gateway.kombo.catalog.rules import NESTED_CONNECTION_PARAMS
from gateway.schema.ids import InvalidId, parse_global_id

__all__ = [
    "COMPLETIONS",
    "CONNECTION_FIELDS",
    "ID_LOOKUPS",
    "MAX_COERCION_ERRORS",
    "NESTED_CONNECTION_PARAMS",
    "REFERENCES",
    "CostEstimate",
    "estimate_cost",
]


NESTED_CONNECTIONS: frozenset[tuple[str, str]] = frozenset(
    (p.model, m.plural)
    for m in CATALOG
    for p in m.params
    if p.name in NESTED_CONNECTION_PARAMS and p.model is not None
)
"""(parent type, field) of the nested connections: ``("Job", "interviews")``…"""

CONNECTION_FIELDS: frozenset[tuple[str, str]] = (
    frozenset(("Query", m.plural) for m in CATALOG) | NESTED_CONNECTIONS
)
"""Fields that fetch one upstream page of ``first`` records each time they resolve."""

ID_LOOKUPS: Mapping[tuple[str, str], tuple[str, str | None]] = {
    **{("Query", m.singular): ("id", m.name) for m in CATALOG},
    ("Query", "node"): ("id", None),
    ("Query", "nodes"): ("ids", None),
}
"""Fields that look records up by id (batched per model and request): the argument naming them,
and the model (None: the type each global id names)."""

REFERENCES: Mapping[tuple[str, str], str] = {
    (m.name, ref.name): ref.model for m in CATALOG for ref in m.references
}
"""Fields that look up the record an id field names (``Interview.stage``), batched per model."""


def _inline_records() -> dict[tuple[str, str], tuple[str, frozenset[str]]]:
    """For each (type, field) holding inline records: their model and the GraphQL fields answered
    without a call wherever that field is met (the fewest inlined, over every path: an
    application's candidate under an interview has 5 fields, at ``/ats/applications`` 10)."""
    inline: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}

    def visit(owner: str, shape: ObjectShape) -> None:
        for f in shape.fields:
            inner = f.shape.item if isinstance(f.shape, ListShape) else f.shape
            if not isinstance(inner, ObjectShape) or inner.model is None:
                continue
            target = CATALOG[inner.model]
            free = {camel(n) for n in inner.field_names} | {"id", "komboId", "__typename"}
            free |= {camel(g.name) for g in target.shape.fields if g.inline_only}
            free |= {field for parent, field in NESTED_CONNECTIONS if parent == inner.model}
            key = (owner, camel(f.name))
            if key in inline:
                free &= inline[key][1]
            inline[key] = (inner.model, frozenset(free))
            visit(inner.model, inner)

    for m in CATALOG:
        visit(m.name, m.shape)
    return inline


COMPLETIONS = _inline_records()
"""Fields holding another model's records as much as they are inlined: (model, the GraphQL
fields answered without a call). Selecting any other field of such a record completes it."""

MAX_COERCION_ERRORS = 1
"""Variable-coercion errors reported before coercion stops, in the cost estimate and in
execution (:class:`gateway.schema.GatewaySchema`): the first error, then graphql-core's "Too many
errors processing variables" (each error costs time linear in the offending value)."""

TYPE_NAMES = frozenset(m.name for m in CATALOG)


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What an operation may cost: records fetched, and upstream calls made."""

    nodes: int
    upstream_calls: int


def _lookup_models(ids: Any, model: str | None) -> list[str]:
    """The model each looked-up id belongs to (``node``/``nodes``: the type each names)."""
    values = ids if isinstance(ids, list) else [ids]
    if model is not None:
        return [model] * len(values)
    models = []
    for value in values:
        try:
            parsed = parse_global_id(value, TYPE_NAMES) if isinstance(value, str) else None
        except InvalidId:
            continue  # refused before any call
        models.append(parsed[0] if parsed else "Interview")
    return models


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

    - a connection field (:data:`CONNECTION_FIELDS`: ``Query.jobs``, ``Job.applications``…)
      costs ``multiplier * first`` records and ``multiplier`` upstream calls (one page each time
      it resolves); below it the multiplier is ``multiplier * first``. ``first`` defaults to
      100; a ``first`` outside 1..250 costs nothing, since the resolver refuses it unfetched;
    - an id lookup (:data:`ID_LOOKUPS`) costs one record per id, a reference
      (:data:`REFERENCES`: ``Interview.stage``) one per resolution, and an inline record whose
      selection asks for more than is inlined (:data:`COMPLETIONS`) one per resolution;
      these are batched per model: each model's records looked up at one depth of the
      document cost one upstream call per 250;
    - every other field is free: nested objects come in the payload; introspection is
      answered from memory.

    So ``jobs(first: 25) { nodes { applications(first: 5) { nodes { candidate { phoneNumbers
    { phoneNumber } } } } } }`` costs 25 + 125 + 125 = 275 records and 1 + 25 + 1 = 27 calls. The
    estimate is an upper bound except in two cases: resuming mid-page with a larger ``first``
    than the cursor's page may stitch several pages, and an inline *list* (a candidate's
    applications) is counted as one record per parent; the run-time :class:`UpstreamBudget`
    bounds both. It is over where the request memoizes (the same job's interviews under several
    interviews are fetched once) or pages come back short.
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
    # The walk reads only ``first``, the ids looked up and ``@skip``/``@include``: the same
    # document with the same values of those (a list page with another filter, the common
    # case) costs the same, computed once.
    key = _walk_key(document, operation, coerced)
    if key is not None:
        cached = _walks.get(key)
        if cached is not None:
            return cached
    estimate = _walk(schema, document, operation, coerced)
    if key is not None and estimate is not None:
        if len(_walks) >= MAX_CACHED_WALKS:
            _walks.clear()
        _walks[key] = estimate
    return estimate


MAX_CACHED_WALKS = 256
"""Estimates kept per process (by document, operation and the values the walk reads)."""

MAX_WALKED_DOCUMENT_CHARS = 16 * 1024
"""Documents longer than this are walked every time: what the caches hold stays small (a few
MiB at most), as the parsed-document cache does for the same bound."""

_walks: dict[tuple[Any, ...], CostEstimate] = {}
_walk_variables: dict[tuple[str, int], tuple[str, ...]] = {}
"""(document text, start of the operation) → the variables the walk reads."""

_WALKED_ARGUMENTS = frozenset({"first", "id", "ids", "if"})
"""Arguments the walk reads: ``first`` of connections, lookups' ids, the directives' ``if``."""


def _walk_key(
    document: DocumentNode, operation: OperationDefinitionNode, coerced: VariableValues
) -> tuple[Any, ...] | None:
    """What the walk's result depends on, or None when it is not kept (no source text, a long
    document, an unhashable value)."""
    loc = operation.loc
    if loc is None or len(loc.source.body) > MAX_WALKED_DOCUMENT_CHARS:
        return None
    place = (loc.source.body, loc.start)
    names = _walk_variables.get(place)
    if names is None:
        if len(_walk_variables) >= MAX_CACHED_WALKS:
            _walk_variables.clear()
        names = _walk_variables[place] = _read_variables(document)
    values = coerced.coerced
    try:
        key = (*place, names, tuple(_frozen(values.get(name)) for name in names))
        hash(key)
    except TypeError:
        return None
    return key


def _read_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables that arguments the walk reads take, anywhere in the document."""
    names: set[str] = set()

    class Finder(Visitor):
        def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
            if node.name.value in _WALKED_ARGUMENTS:
                visit(node.value, Collector())

    class Collector(Visitor):
        def enter_variable(self, node: VariableNode, *_args: Any) -> None:
            names.add(node.name.value)

    visit(document, Finder())
    return tuple(sorted(names))


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        raise TypeError("an input object")  # not read by the walk's arguments
    return value


def _walk(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    coerced: VariableValues,
) -> CostEstimate | None:
    """:func:`estimate_cost`'s walk, its variables coerced."""
    root = schema.get_root_type(operation.operation)
    if root is None:
        return None
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    collect = functools.partial(_collect_fields, schema, fragments, coerced)
    nodes = calls = 0
    batched: Counter[tuple[str, int]] = Counter()
    """(model, depth) → records looked up there: one batch per 250."""
    pending: list[tuple[GraphQLObjectType, list[FieldNode], int, int]] = [
        (root, fields, 1, 0) for fields in collect(root, [operation.selection_set]).values()
    ]
    while pending:
        parent, fields, multiplier, depth = pending.pop()
        name = fields[0].name.value
        definition = parent.fields.get(name)
        if definition is None or name.startswith("__"):
            continue
        key = (parent.name, name)
        below = multiplier
        named = get_named_type(definition.type)
        selections = [f.selection_set for f in fields if f.selection_set]
        if key in CONNECTION_FIELDS:
            first = get_argument_values(definition, fields[0], coerced).get("first")
            size = first if isinstance(first, int) and 1 <= first <= MAX_PAGE_SIZE else 0
            nodes += multiplier * size
            calls += multiplier
            below = multiplier * size
        elif key in ID_LOOKUPS:
            argument, model = ID_LOOKUPS[key]
            ids = get_argument_values(definition, fields[0], coerced).get(argument)
            models = _lookup_models(ids, model)
            for looked_up in models:
                batched[(looked_up, depth)] += multiplier
            nodes += multiplier * len(models)
            below = multiplier * len(models)
        elif key in REFERENCES:
            batched[(REFERENCES[key], depth)] += multiplier
            nodes += multiplier
        elif key in COMPLETIONS and is_object_type(named):
            model, free = COMPLETIONS[key]
            asked = collect(named, selections)  # type: ignore[arg-type]
            if any(group[0].name.value not in free for group in asked.values()):
                batched[(model, depth)] += multiplier
                nodes += multiplier
        if is_object_type(named) or is_abstract_type(named):
            # An interface's or union's implementations are each counted: an upper bound.
            possible = [named] if is_object_type(named) else schema.get_possible_types(named)  # type: ignore[arg-type]
            for runtime in possible:
                for subfields in collect(runtime, selections).values():
                    pending.append((runtime, subfields, below, depth + 1))
    calls += sum(math.ceil(count / MAX_PAGE_SIZE) for count in batched.values())
    return CostEstimate(nodes=nodes, upstream_calls=calls)


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
