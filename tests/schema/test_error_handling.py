"""`gateway.schema.error_handling`: the one shaper of GraphQL errors, on errors built by hand."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, build_schema, parse, validate

from gateway.errors import BadUserInput, UpstreamError
from gateway.schema.error_handling import translate_error


def format_error(error: GraphQLError) -> dict[str, Any]:
    """An error as a client gets it: shaped by the schema's one shaper, then serialized."""
    return dict(translate_error(error, None).formatted)


def _field_error(original: Exception) -> GraphQLError:
    return GraphQLError(str(original), path=["interviews"], original_error=original)


def test_format_error_gives_gateway_errors_their_extensions() -> None:
    error = _field_error(UpstreamError("gone", code=None, title="T", log_url=None, status=503))

    assert format_error(error) == {
        "message": "gone",
        "path": ["interviews"],
        "extensions": {"code": "UPSTREAM_ERROR", "title": "T", "logUrl": None, "status": 503},
    }


def test_format_error_finds_a_gateway_error_behind_graphql_errors() -> None:
    inner = GraphQLError("wrapped", original_error=BadUserInput("first must be positive"))
    error = GraphQLError("wrapped", path=["interviews"], original_error=inner)

    assert format_error(error)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert format_error(error)["message"] == "first must be positive"


def test_format_error_marks_validation_errors_as_bad_user_input() -> None:
    [error] = validate(build_schema("type Query { hello: String }"), parse("{ nope }"))

    formatted = format_error(error)

    assert formatted["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "nope" in formatted["message"]
    assert formatted["locations"] == [{"line": 1, "column": 3}]
    assert "path" not in formatted


def test_format_error_keeps_errors_already_carrying_a_code() -> None:
    error = GraphQLError("shaped", path=["x"], extensions={"code": "FORBIDDEN", "requestId": "r"})

    assert format_error(error)["extensions"] == {"code": "FORBIDDEN", "requestId": "r"}


def test_format_error_masks_everything_else() -> None:
    formatted = format_error(_field_error(KeyError("api_key=secret")))

    assert formatted == {
        "message": "Internal server error.",
        "path": ["interviews"],
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }
