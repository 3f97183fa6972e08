"""The cost limit: an operation whose estimated cost (:mod:`.cost`) is over ``GATEWAY_MAX_COST``
or ``GATEWAY_MAX_ESTIMATED_CALLS`` is refused as execution starts, before any resolver runs; one
within them waits for the process's memory budget (:mod:`gateway.admission`). README "Limits".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from gateway.admission import AdmissionTicket
from gateway.errors import GatewayAtCapacity
from gateway.schema.limits.cost import CostEstimate, estimate_cost
from gateway.schema.limits.refusal import exceeds, too_complex
from gateway.schema.limits.variable_bounds import bad_variables, variables_refusal

__all__ = ["CostLimit"]


class CostLimit(SchemaExtension):
    """Refuse an operation whose :func:`estimate_cost` is over the limits, as execution starts
    (the variables are known then) and before any resolver runs; then, when the request's
    context carries an ``admission`` ticket (:mod:`gateway.admission`), wait for the process's
    memory budget to admit the estimated interviews (the endpoint releases them once the
    response is sent). Waiting past the request's deadline refuses it, 503.

    A subscription is estimated per change (its selection executes once per event) and never
    waits for the memory budget, which it would otherwise hold for as long as it runs; Strawberry
    subscribes whatever the result already holds, so a refusal is raised instead, which ends the
    subscription with that error before the resolver runs."""

    def __init__(self, max_cost: int, max_estimated_calls: int) -> None:
        self.max_cost = max_cost
        self.max_estimated_calls = max_estimated_calls

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, context.operation_name)
        )
        subscription = context.operation_type is OperationType.SUBSCRIPTION
        refusal = None if operation is None else variables_refusal(operation, context.variables)
        if refusal is not None and context.result is None:
            # Before coercion, which is linear per error but builds suggestions and copies.
            if subscription:
                raise bad_variables(refusal)
            context.result = PreExecutionError(data=None, errors=[bad_variables(refusal)])
        if document is not None and context.result is None:
            try:
                estimate = estimate_cost(
                    context.schema._schema, document, context.operation_name, context.variables
                )
            except GraphQLError:
                estimate = None  # an argument execution will refuse, before any resolver runs
            errors = self._refusals(estimate) if estimate is not None else []
            if errors and subscription:
                raise errors[0]
            if not errors and estimate is not None and not subscription:
                errors = await _admit(context.context, estimate)
            if errors:
                # Strawberry skips execution when a result is already there.
                context.result = PreExecutionError(data=None, errors=errors)
        yield

    def _refusals(self, estimate: CostEstimate) -> list[GraphQLError]:
        errors = []
        if estimate.nodes > self.max_cost:
            message = exceeds(
                "estimated cost of", f"{estimate.nodes} interviews", self.max_cost, "max_cost"
            )
            errors.append(too_complex(message))
        if estimate.upstream_calls > self.max_estimated_calls:
            message = exceeds(
                "estimated upstream call count",
                estimate.upstream_calls,
                self.max_estimated_calls,
                "max_estimated_calls",
            )
            errors.append(too_complex(message))
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
