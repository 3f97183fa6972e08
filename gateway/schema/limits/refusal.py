"""How a query limit refuses a request: a ``QUERY_TOO_COMPLEX`` error whose message names the
limit, the value found and the variable that sets it (README "Limits").
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from gateway.config import QueryLimits
from gateway.errors import QueryTooComplex

VARIABLE = QueryLimits.VARIABLES
"""Each limit's environment variable, named in its refusal."""


def exceeds(measure: str, value: int | str, limit: int, name: str) -> str:
    return f"{measure} {value} exceeds the limit of {limit} ({VARIABLE[name]})"


def readable_count(value: int) -> str:
    # Expanded fragments can make a count astronomically large; a number that long helps nobody.
    return str(value) if value < 10**9 else "over 1000000000"


def too_complex(message: str, nodes: Any = None) -> GraphQLError:
    """A request error carrying the gateway's own error, so that its code survives translation."""
    return GraphQLError(message, nodes, original_error=QueryTooComplex(message))
