"""Query limits: what one GraphQL request may ask of the gateway, and of Kombo through it.

One rule per module, as graphql-core's ``validation/rules/``. Every limit rejects the request
*before any upstream call*, with a ``QUERY_TOO_COMPLEX`` error (HTTP 400 under
``application/graphql-response+json``, no ``data``) whose message names the limit, its value and
its variable (:mod:`.refusal`):

- :mod:`.operation_name`: a document of several operations needs an ``operationName``
  (``BAD_USER_INPUT``);
- :mod:`.document_bounds`: what no real document needs much of, counted before validation;
- :mod:`.tokens` (``GATEWAY_MAX_TOKENS``): the parser stops at the limit;
- :mod:`.depth_and_aliases` (``GATEWAY_MAX_DEPTH``, ``GATEWAY_MAX_ALIASES``): fragments expanded,
  each measured once;
- :mod:`.introspection` (``GATEWAY_INTROSPECTION=false``): introspection off (``BAD_USER_INPUT``);
- :mod:`.validation_work`: a budget for graphql-core's costliest validation rule;
- :mod:`.variable_bounds`: the raw variables, before coercion (``BAD_USER_INPUT``);
- :mod:`.cost` and :mod:`.cost_limit` (``GATEWAY_MAX_COST``, ``GATEWAY_MAX_ESTIMATED_CALLS``):
  the estimate needs the variables' values, so it runs when execution starts (with the
  variables coerced), still before any resolver.

One more limit is enforced while the request runs, by the request's upstream access:
:class:`gateway.upstream.UpstreamBudget` counts the upstream calls one request really makes
(page fetches and id batches; memoized or cached pages are not calls) and fails the field that
would exceed ``GATEWAY_UPSTREAM_BUDGET``, while the rest of the response stands. It catches what
no estimate sees in advance (stitching pages after a mid-page cursor). README "Limits".
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from graphql import ASTValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension

from gateway.config import QueryLimits
from gateway.schema.limits.cost import (
    COMPLETIONS,
    CONNECTION_FIELDS,
    ID_LOOKUPS,
    MAX_COERCION_ERRORS,
    REFERENCES,
    CostEstimate,
    estimate_cost,
)
from gateway.schema.limits.cost_limit import CostLimit
from gateway.schema.limits.depth_and_aliases import (
    Shape,
    depth_and_aliases_rule,
    measure_operations,
)
from gateway.schema.limits.document_bounds import DocumentBounds
from gateway.schema.limits.introspection import IntrospectionDisabledRule
from gateway.schema.limits.operation_name import RequireOperationName
from gateway.schema.limits.tokens import TokenLimit
from gateway.schema.limits.validation_work import MAX_VALIDATION_WORK, ValidationWork

__all__ = [
    "COMPLETIONS",
    "CONNECTION_FIELDS",
    "ID_LOOKUPS",
    "MAX_COERCION_ERRORS",
    "MAX_VALIDATION_WORK",
    "REFERENCES",
    "CostEstimate",
    "DocumentBounds",
    "QueryLimits",
    "RequireOperationName",
    "Shape",
    "estimate_cost",
    "limit_extensions",
    "measure_operations",
]


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions that enforce ``limits`` before execution, as per-request factories
    for :class:`strawberry.Schema` (list them after the error translation, so that they see the
    results first)."""
    rules: list[type[ASTValidationRule]] = [
        depth_and_aliases_rule(limits.max_depth, limits.max_aliases)
    ]
    if not limits.introspection:
        rules.append(IntrospectionDisabledRule)
    return [
        functools.partial(TokenLimit, max_token_count=limits.max_tokens),
        functools.partial(AddValidationRules, rules),
        ValidationWork,
        functools.partial(CostLimit, limits.max_cost, limits.max_estimated_calls),
    ]
