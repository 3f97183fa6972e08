"""Query limits: what one GraphQL request may ask of the gateway, and of Kombo through it.

Every limit but the last rejects the request *before any upstream call*, with a
``QUERY_TOO_COMPLEX`` error (HTTP 400 under ``application/graphql-response+json``, no ``data``)
whose message names the limit, its value and its variable:

- **tokens** (``GATEWAY_MAX_TOKENS``): graphql-core's parser stops counting at the limit, so a
  huge document is never parsed in full (Strawberry's :class:`MaxTokensLimiter`; comments count
  too, since the parser keeps them in memory as well);
- **depth** (``GATEWAY_MAX_DEPTH``): the most fields nested on any path, leaf included, with every
  fragment expanded. Introspection fields (``__schema``, ``__type``) are left out, as Strawberry's
  own depth limiter does: GraphiQL's introspection query nests ``ofType`` nine times, and
  graphql-core's validation already refuses the introspection that grows exponentially (lists of
  types nested more than 3 deep: ``MaxIntrospectionDepthRule``, ``BAD_USER_INPUT``);
- **aliases** (``GATEWAY_MAX_ALIASES``): aliased fields, with every fragment spread expanded
  (a fragment spread three times counts three times, as its fields answer three times);
- **cost** (``GATEWAY_MAX_COST``, ``GATEWAY_MAX_ESTIMATED_CALLS``): see :func:`estimate_cost`;
  it needs the variables' values, so it runs when execution starts (with the variables coerced),
  still before any resolver.

The depth and alias rules are our own rather than Strawberry's ``QueryDepthLimiter`` and
``MaxAliasesLimiter``: those walk a fragment again at every spread, so a few hundred tokens of
fragments that each spread the next one twice take exponential time (measured: 20 such
fragments, 2.7 s), and their messages give neither the value found nor the variable. Ours
measure each fragment once.

The last limit is enforced while the request runs: :class:`UpstreamBudget` counts the upstream
calls one request really makes (page fetches and id batches; memoized or cached pages are not
calls) and fails the field that would exceed ``GATEWAY_UPSTREAM_BUDGET``, while the rest of the
response stands. It catches what no estimate sees in advance (stitching pages after a mid-page
cursor).

``GATEWAY_INTROSPECTION=false`` turns introspection off (``BAD_USER_INPUT``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    OverlappingFieldsCanBeMergedRule,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
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
from graphql.language import SKIP, Lexer, Source, TokenKind, VisitorAction
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.types.execution import PreExecutionError

from gateway.admission import AdmissionTicket
from gateway.config import QueryLimits
from gateway.errors import BadUserInput, GatewayAtCapacity, QueryTooComplex
from gateway.kombo import MAX_PAGE_SIZE
from gateway.schema.bounds import bad_variables, variables_refusal

__all__ = [
    "CONNECTION_FIELDS",
    "ID_LOOKUPS",
    "MAX_COERCION_ERRORS",
    "MAX_VALIDATION_WORK",
    "CostEstimate",
    "QueryLimits",
    "Shape",
    "UpstreamBudget",
    "estimate_cost",
    "limit_extensions",
    "measure_operations",
]

_VARIABLE = QueryLimits.VARIABLES

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

_INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


MAX_COERCION_ERRORS = 1
"""Variable-coercion errors reported before coercion stops, in the cost estimate and in
execution (:class:`gateway.schema.GatewaySchema`): the first error, then graphql-core's "Too many
errors processing variables" (each error costs time linear in the offending value)."""

MAX_VALIDATION_WORK = 10_000
"""Work units (mostly pairwise comparisons of fields sharing a response name) that
graphql-core's ``OverlappingFieldsCanBeMergedRule`` may spend on one document; graphql-core's own
default is 500,000. Measured: GraphiQL's introspection query, the README's and the benchmark's
documents and 60 aliased lookups spend 0 to 3 units; 10,000 cost 5 to 35 ms, while the 500,000
of ``{ __typename __typename ... }`` (9,990 times) took 0.32 s and of 2,000 conflicting
``interview(id: ...)`` fields 1.1 s."""


def _exceeds(measure: str, value: int | str, limit: int, name: str) -> str:
    return f"{measure} {value} exceeds the limit of {limit} ({_VARIABLE[name]})"


def _count(value: int) -> str:
    # Expanded fragments can make a count astronomically large; a number that long helps nobody.
    return str(value) if value < 10**9 else "over 1000000000"


def _too_complex(message: str, nodes: Any = None) -> GraphQLError:
    """A request error carrying the gateway's own error, so that its code survives translation."""
    return GraphQLError(message, nodes, original_error=QueryTooComplex(message))


# --- depth and aliases -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """What the depth and alias limits measure in one operation or fragment."""

    depth: int
    aliases: int


def measure_operations(document: DocumentNode) -> dict[OperationDefinitionNode, Shape]:
    """The depth and alias count of every operation of ``document``, fragments expanded.

    Depth is the most fields on any path from the operation down, the leaf included
    (``{ interviews { nodes { id } } }`` is 3); fields under ``__schema`` and ``__type`` do not
    count. Each fragment is measured once, dependencies first, without recursion: neither
    fragment fan-out nor a long chain of fragments can make this slow or overflow the stack.
    Fragments in a cycle (which validation reports anyway) count as empty where they repeat.
    """
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    measured: dict[str, Shape] = {}
    for name in _dependencies_first(fragments):
        measured[name] = _measure(fragments[name].selection_set, measured)
    return {
        definition: _measure(definition.selection_set, measured)
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
    }


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """The names of the fragments spread anywhere inside ``selection_set``."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


def _dependencies_first(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after the fragments it spreads (an iterative depth-first walk)."""
    order: list[str] = []
    seen: set[str] = set()
    for root in fragments:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(set(_spreads(fragments[root].selection_set))))]
        while stack:
            name, spreads = stack[-1]
            spread = next(spreads, None)
            if spread is None:
                stack.pop()
                order.append(name)
            elif spread in fragments and spread not in seen:
                seen.add(spread)
                stack.append((spread, iter(set(_spreads(fragments[spread].selection_set)))))
    return order


def _measure(selection_set: SelectionSetNode, fragments: Mapping[str, Shape]) -> Shape:
    depth = aliases = 0
    # (selections, fields above them, inside introspection)
    pending = [(selection_set, 0, False)]
    while pending:
        selections, level, introspection = pending.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    aliases += 1
                inside = introspection or selection.name.value in _INTROSPECTION_ROOTS
                if not inside:
                    depth = max(depth, level + 1)
                if selection.selection_set:
                    pending.append((selection.selection_set, level + 1, inside))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, level, introspection))
            elif isinstance(selection, FragmentSpreadNode):
                shape = fragments.get(selection.name.value)
                if shape is not None:
                    aliases += shape.aliases
                    if not introspection:
                        depth = max(depth, level + shape.depth)
    return Shape(depth, aliases)


def _shape_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule holding every operation of the document to both limits."""

    class QueryShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for operation, shape in measure_operations(context.document).items():
                if shape.depth > max_depth:
                    message = _exceeds("query depth", shape.depth, max_depth, "max_depth")
                    self.report_error(_too_complex(message, operation))
                if shape.aliases > max_aliases:
                    message = _exceeds(
                        "alias count", _count(shape.aliases), max_aliases, "max_aliases"
                    )
                    self.report_error(_too_complex(message, operation))

    return QueryShapeRule


class _IntrospectionDisabledRule(ValidationRule):
    """graphql-core's ``NoSchemaIntrospectionCustomRule``, with one error per ``__schema`` or
    ``__type`` field (not one per field below it) that says how to turn introspection on."""

    def enter_field(self, node: FieldNode, *_args: Any) -> VisitorAction:
        if node.name.value not in _INTROSPECTION_ROOTS:
            return None
        message = (
            f"introspection is disabled on this gateway ({_VARIABLE['introspection']}=false): "
            f"'{node.name.value}' cannot be queried"
        )
        self.report_error(GraphQLError(message, node, original_error=BadUserInput(message)))
        return SKIP


class _BoundedOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with a budget of :data:`MAX_VALIDATION_WORK`."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MAX_VALIDATION_WORK


_VALIDATION_ABORTED = "Validation aborted."


class _ValidationWork(SchemaExtension):
    """Runs :class:`_BoundedOverlappingFieldsRule` in place of graphql-core's rule, and
    reports a validation it aborted as ``QUERY_TOO_COMPLEX``."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = tuple(
            _BoundedOverlappingFieldsRule if rule is OverlappingFieldsCanBeMergedRule else rule
            for rule in context.validation_rules
        )
        yield

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = context.pre_execution_errors
        if not errors:
            return
        message = (
            f"validating the document takes too much work (over {MAX_VALIDATION_WORK} "
            "comparisons of fields that share a response name): select each field once, "
            "or give repeated fields distinct aliases"
        )
        # In place: Strawberry's answer already holds this list.
        errors[:] = [
            _too_complex(message)
            if isinstance(error, ValidationAbortedError) and error.message == _VALIDATION_ABORTED
            else error
            for error in errors
        ]


# --- tokens ----------------------------------------------------------------------------------


class _TokenLimit(MaxTokensLimiter):
    """Strawberry's token limit (the parser aborts at the limit), with our code and message.

    When the parse step ends in a syntax error, the limiter checks whether the parser stopped
    at its limit: graphql-core raises that error at the start of the first token past the
    limit (comments count, as for graphql-core), where no other syntax error can stop it.
    """

    _stopped: GraphQLError | None = None

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = context.pre_execution_errors
        if context.graphql_document is not None or not errors or context.query is None:
            return
        [error] = errors  # Strawberry's parse step reports the one error it caught
        position = next(iter(error.positions or ()), None)
        if position is not None and position == _token_start(
            context.query, self.max_token_count + 1
        ):
            self._stopped = error

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        if self._stopped is None or result is None or not result.errors:
            return
        message = (
            f"token count exceeds the limit of {self.max_token_count} "
            f"({_VARIABLE['max_tokens']}); the document was not parsed further"
        )
        result.errors = [
            _too_complex(message) if error is self._stopped else error for error in result.errors
        ]


def _token_start(query: str, number: int) -> int | None:
    """Where token ``number`` (from 1, comments included) of ``query`` starts; None when the
    document has fewer, or one of them does not lex. Reads at most ``number`` tokens, one at a
    time (none is kept)."""
    lexer = Lexer(Source(query))
    end = 0
    start = None
    for _ in range(number):
        try:
            token = lexer.read_next_token(end)
        except GraphQLError:
            return None
        if token.kind is TokenKind.EOF:
            return None
        start, end = token.start, token.end
    return start


# --- cost ------------------------------------------------------------------------------------


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


class _CostLimit(SchemaExtension):
    """Refuse an operation whose :func:`estimate_cost` is over the limits, as execution starts
    (the variables are known then) and before any resolver runs; then, when the request's
    context carries an ``admission`` ticket (:mod:`gateway.admission`), wait for the process's
    memory budget to admit the estimated interviews (the endpoint releases them once the
    response is sent). Waiting past the request's deadline refuses it, 503."""

    def __init__(self, max_cost: int, max_estimated_calls: int) -> None:
        self.max_cost = max_cost
        self.max_estimated_calls = max_estimated_calls

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, context.operation_name)
        )
        refusal = None if operation is None else variables_refusal(operation, context.variables)
        if refusal is not None and context.result is None:
            # Before coercion, which is linear per error but builds suggestions and copies.
            context.result = PreExecutionError(data=None, errors=[bad_variables(refusal)])
        if document is not None and context.result is None:
            try:
                estimate = estimate_cost(
                    context.schema._schema, document, context.operation_name, context.variables
                )
            except GraphQLError:
                estimate = None  # an argument execution will refuse, before any resolver runs
            errors = self._refusals(estimate) if estimate is not None else []
            if not errors and estimate is not None:
                errors = await _admit(context.context, estimate)
            if errors:
                # Strawberry skips execution when a result is already there.
                context.result = PreExecutionError(data=None, errors=errors)
        yield

    def _refusals(self, estimate: CostEstimate) -> list[GraphQLError]:
        errors = []
        if estimate.nodes > self.max_cost:
            message = _exceeds(
                "estimated cost of", f"{estimate.nodes} interviews", self.max_cost, "max_cost"
            )
            errors.append(_too_complex(message))
        if estimate.upstream_calls > self.max_estimated_calls:
            message = _exceeds(
                "estimated upstream call count",
                estimate.upstream_calls,
                self.max_estimated_calls,
                "max_estimated_calls",
            )
            errors.append(_too_complex(message))
        return errors


async def _admit(request_context: Any, estimate: CostEstimate) -> list[GraphQLError]:
    """Reserve the estimate from the memory budget, within the request's deadline; the error
    that answers the request when the deadline passes first."""
    ticket: AdmissionTicket | None = getattr(request_context, "admission", None)
    if ticket is None:
        return []
    deadline = getattr(request_context, "deadline", None)
    timeout = deadline.remaining() if deadline is not None else 0.0
    try:
        await ticket.reserve(estimate.nodes, timeout)
    except GatewayAtCapacity as refusal:
        return [GraphQLError(refusal.message, original_error=refusal)]
    return []


# --- the run-time budget ---------------------------------------------------------------------


class UpstreamBudget:
    """The upstream calls one GraphQL request may still make (``GATEWAY_UPSTREAM_BUDGET``).

    The request's context hands :meth:`spend` to the Kombo client (``on_upstream_call``), which
    calls it once per page or id batch it is about to ask of Kombo: a page the request already
    has (memoized) or the response cache answers spends nothing. Past the budget the call is not
    made and the field that needed it fails with ``QUERY_TOO_COMPLEX``, while the rest of the
    response stands.
    """

    def __init__(self, limit: int = QueryLimits.upstream_budget) -> None:
        self.limit = limit
        self.spent = 0

    def spend(self) -> None:
        """Count one upstream call, or raise :class:`QueryTooComplex` when none is left."""
        if self.spent >= self.limit:
            raise QueryTooComplex(
                f"upstream-call budget of {self.limit} exceeded "
                f"({_VARIABLE['upstream_budget']}): this field needed one more call"
            )
        self.spent += 1

    def __repr__(self) -> str:
        return f"UpstreamBudget(spent={self.spent}, limit={self.limit})"


# --- wiring ----------------------------------------------------------------------------------


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions that enforce ``limits`` before execution, as per-request factories
    for :class:`strawberry.Schema` (list them after the error translation, so that they see the
    results first)."""
    rules: list[type[ASTValidationRule]] = [_shape_rule(limits.max_depth, limits.max_aliases)]
    if not limits.introspection:
        rules.append(_IntrospectionDisabledRule)
    return [
        functools.partial(_TokenLimit, max_token_count=limits.max_tokens),
        functools.partial(AddValidationRules, rules),
        _ValidationWork,
        functools.partial(_CostLimit, limits.max_cost, limits.max_estimated_calls),
    ]
