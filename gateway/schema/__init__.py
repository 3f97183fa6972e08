"""The GraphQL schema, assembled in one place. Only GraphQL lives in this package."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension

from gateway.schema.error_handling import ContractErrors
from gateway.schema.limits import (
    MAX_COERCION_ERRORS,
    DocumentBounds,
    QueryLimits,
    RequireOperationName,
    limit_extensions,
)
from gateway.schema.query import MODEL_TYPE_LIST, Query
from gateway.schema.request_context import GatewayContext
from gateway.schema.scalars import DateTimeScalar
from gateway.schema.subscription import Subscription


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, minus its default error logging (:class:`ContractErrors` logs bugs)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        return None

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        # Passed on to graphql-core's `execute`: coercing the variables stops at the first error
        # (graphql-core's default is 50, each costing time linear in the offending value).
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        return {**kwargs, "max_coercion_errors": MAX_COERCION_ERRORS}


def build_schema(
    limits: QueryLimits | None = None,
    *,
    execution_context_class: type[Executor] | None = None,
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
) -> GatewaySchema:
    """The schema (README "How GraphQL maps to Kombo").

    ``limits`` (default: :class:`QueryLimits`' defaults) bound every request's depth, aliases,
    tokens and estimated cost before execution (:mod:`gateway.schema.limits`).

    ``execution_context_class`` (default: graphql-core's) executes the operations: the app
    gives the fast path (:func:`gateway.execution.executable_schema`).

    ``extensions`` (per-request factories) are added after the gateway's own: the app adds the
    recorder that names each request for its operators (README "Operations"), the document
    caches of :mod:`gateway.execution` and the persisted-query registration of
    :mod:`gateway.persisted` this way, in that order.
    """
    return GatewaySchema(
        query=Query,
        subscription=Subscription,
        types=MODEL_TYPE_LIST,
        # Listed after ContractErrors, the limits' hooks end first and shape their errors.
        extensions=[
            ContractErrors,
            RequireOperationName,
            # Before graphql-core's validation: refuses what would make it slow.
            DocumentBounds,
            *limit_extensions(limits or QueryLimits()),
            *extensions,
        ],
        scalar_overrides={datetime: DateTimeScalar},
        execution_context_class=execution_context_class,
    )


__all__ = ["GatewayContext", "GatewaySchema", "QueryLimits", "build_schema"]
