"""Several operations without an operationName are a request error."""

from __future__ import annotations

import asyncio

from strawberry.types.execution import PreExecutionError

from tests.support.query_limits import DEFAULT_SCHEMA


def test_several_operations_without_a_name_are_a_request_error() -> None:
    document = "query A { __typename } query B { __typename }"
    result = asyncio.run(DEFAULT_SCHEMA.execute(document))
    assert isinstance(result, PreExecutionError)
    assert [(e.message, (e.extensions or {}).get("code")) for e in result.errors or ()] == [
        ("Must provide operation name if query contains multiple operations.", "BAD_USER_INPUT")
    ]
    named = asyncio.run(DEFAULT_SCHEMA.execute(document, operation_name="B"))
    assert named.errors is None and named.data == {"__typename": "Query"}
