"""``GATEWAY_INTROSPECTION=false`` turns introspection off: ``__schema`` and ``__type`` are refused
during validation with ``BAD_USER_INPUT`` (README "Limits").
"""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLError, ValidationRule
from graphql.language import SKIP, VisitorAction

from gateway.errors import BadUserInput
from gateway.schema.limits.refusal import VARIABLE

__all__ = ["INTROSPECTION_ROOTS", "IntrospectionDisabledRule"]


INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})
"""The introspection fields: refused when introspection is off, left out of the depth."""


class IntrospectionDisabledRule(ValidationRule):
    """graphql-core's ``NoSchemaIntrospectionCustomRule``, with one error per ``__schema`` or
    ``__type`` field (not one per field below it) that says how to turn introspection on."""

    def enter_field(self, node: FieldNode, *_args: Any) -> VisitorAction:
        if node.name.value not in INTROSPECTION_ROOTS:
            return None
        message = (
            f"introspection is disabled on this gateway ({VARIABLE['introspection']}=false): "
            f"'{node.name.value}' cannot be queried"
        )
        self.report_error(GraphQLError(message, node, original_error=BadUserInput(message)))
        return SKIP
