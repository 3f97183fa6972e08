"""A variable-coercion message as long as the variable bounds allow is capped, with a marker."""

from __future__ import annotations

import asyncio

from tests.support.query_limits import DEFAULT_SCHEMA, FILTER_QUERY


def test_error_messages_are_capped_with_a_marker() -> None:
    from gateway.http import MAX_MESSAGE_CHARS, error_body

    # Keys under variable_bounds.MAX_FIELD_NAME, which graphql-core prints all into the message.
    keys = {f"{index}{'x' * 100}": 0 for index in range(100)}
    result = asyncio.run(DEFAULT_SCHEMA.execute(FILTER_QUERY, variable_values={"f": keys}))
    formatted = error_body((result.errors or [])[0])
    assert formatted["extensions"]["code"] == "BAD_USER_INPUT"
    message = formatted["message"]
    assert message.startswith("Variable '$f' has invalid value: Expected value of type")
    cut = len(result.errors[0].message) - MAX_MESSAGE_CHARS  # type: ignore[index]
    assert message == result.errors[0].message[:MAX_MESSAGE_CHARS] + f"... [{cut} more characters]"  # type: ignore[index]


def test_a_short_message_is_not_cut() -> None:
    from gateway.http import MAX_MESSAGE_CHARS, cap_message

    assert cap_message("x" * MAX_MESSAGE_CHARS) == "x" * MAX_MESSAGE_CHARS
    assert cap_message("x" * (MAX_MESSAGE_CHARS + 5)).endswith("x... [5 more characters]")
