"""Bounds on the raw variables, checked before graphql-core coerces them (README "Limits").

graphql-core's variable coercion builds an error per bad value and suggestions for every unknown
field. Measured (``python -m bench.hostile.documents``): 1 MiB of ``{}`` items in an ID list took
710 ms of server CPU, one 1 MiB unknown input field name 110 ms (a lexical distance to every
field, for suggestions). So before coercion one iterative pass over the raw variables of the
operation refuses a list longer than any argument accepts (:data:`MAX_LIST_ITEMS`) and an object
key longer than any input field name (:data:`MAX_FIELD_NAME`) with ``BAD_USER_INPUT`` naming the
variable. The pass is linear in what the client sent, which the body limit already bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode

from gateway.errors import BadUserInput

__all__ = ["MAX_FIELD_NAME", "MAX_LIST_ITEMS", "bad_variables", "variables_refusal"]

MAX_LIST_ITEMS = 1_000
"""Items of one list in the variables: no argument takes more (``nodes(ids:)`` takes
:data:`gateway.schema.query.MAX_NODES`, 1,000; the filters' lists go into one upstream URL)."""
MAX_FIELD_NAME = 128
"""Characters of an object key in the variables: every input field name is far shorter, so a
longer key is an unknown field (answered without graphql-core's suggestions, which compute a
lexical distance to every field: 110 ms for a 1 MiB key)."""


def variables_refusal(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> str | None:
    """Why the raw ``variables`` of ``operation`` are refused before coercion, or None.
    Only the operation's own variables are looked at (others are ignored, as the spec says)."""
    if not variables:
        return None
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in variables:
            continue
        pending = [variables[name]]
        while pending:
            value = pending.pop()
            if isinstance(value, list):
                if len(value) > MAX_LIST_ITEMS:
                    return (
                        f"Variable '${name}' got invalid value: a list of {len(value)} items; "
                        f"no argument takes more than {MAX_LIST_ITEMS}."
                    )
                pending.extend(value)
            elif isinstance(value, dict):
                for key, item in value.items():
                    if len(key) > MAX_FIELD_NAME:
                        return (
                            f"Variable '${name}' got invalid value: a field name of {len(key)} "
                            f"characters is not defined by any input type (at most "
                            f"{MAX_FIELD_NAME})."
                        )
                    pending.append(item)
    return None


def bad_variables(message: str) -> GraphQLError:
    return GraphQLError(message, original_error=BadUserInput(message))
