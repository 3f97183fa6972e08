"""Depth and aliases (``GATEWAY_MAX_DEPTH``, ``GATEWAY_MAX_ALIASES``), checked during validation.

- **depth**: the most fields nested on any path, leaf included, with every fragment expanded.
  Introspection fields (``__schema``, ``__type``) are left out, as Strawberry's own depth limiter
  does: GraphiQL's introspection query nests ``ofType`` nine times, and graphql-core's validation
  already refuses the introspection that grows exponentially (lists of types nested more than 3
  deep: ``MaxIntrospectionDepthRule``, ``BAD_USER_INPUT``);
- **aliases**: aliased fields, with every fragment spread expanded (a fragment spread three times
  counts three times, as its fields answer three times).

The rule is our own rather than Strawberry's ``QueryDepthLimiter`` and ``MaxAliasesLimiter``:
those walk a fragment again at every spread, so a few hundred tokens of fragments that each
spread the next one twice take exponential time (measured: 20 such fragments, 2.7 s), and their
messages give neither the value found nor the variable. Ours measures each fragment once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from gateway.schema.limits.introspection import INTROSPECTION_ROOTS
from gateway.schema.limits.refusal import exceeds, readable_count, too_complex

__all__ = ["Shape", "depth_and_aliases_rule", "measure_operations"]


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
                inside = introspection or selection.name.value in INTROSPECTION_ROOTS
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


def depth_and_aliases_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule holding every operation of the document to both limits."""

    class QueryShapeRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            for operation, shape in measure_operations(context.document).items():
                if shape.depth > max_depth:
                    message = exceeds("query depth", shape.depth, max_depth, "max_depth")
                    self.report_error(too_complex(message, operation))
                if shape.aliases > max_aliases:
                    message = exceeds(
                        "alias count", readable_count(shape.aliases), max_aliases, "max_aliases"
                    )
                    self.report_error(too_complex(message, operation))

    return QueryShapeRule
