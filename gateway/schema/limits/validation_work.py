"""A budget for graphql-core's costliest validation rule, ``OverlappingFieldsCanBeMergedRule``:
a document that would take more work is refused with ``QUERY_TOO_COMPLEX`` (README "Limits").
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OverlappingFieldsCanBeMergedRule, ValidationContext
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

from gateway.schema.limits.refusal import too_complex

__all__ = ["MAX_VALIDATION_WORK", "ValidationWork"]


MAX_VALIDATION_WORK = 10_000
"""Work units (mostly pairwise comparisons of fields sharing a response name) that
graphql-core's ``OverlappingFieldsCanBeMergedRule`` may spend on one document; graphql-core's own
default is 500,000. Measured: GraphiQL's introspection query, the README's and the benchmark's
documents and 60 aliased lookups spend 0 to 3 units; 10,000 cost 5 to 35 ms, while the 500,000
of ``{ __typename __typename ... }`` (9,990 times) took 0.32 s and of 2,000 conflicting
``interview(id: ...)`` fields 1.1 s."""


class _BoundedOverlappingFieldsRule(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule with a budget of :data:`MAX_VALIDATION_WORK`."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = MAX_VALIDATION_WORK


_VALIDATION_ABORTED = "Validation aborted."


class ValidationWork(SchemaExtension):
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
            too_complex(message)
            if isinstance(error, ValidationAbortedError) and error.message == _VALIDATION_ABORTED
            else error
            for error in errors
        ]
