"""The token limit: the parser stops at the limit; comments count."""

from __future__ import annotations

from gateway.execution import executable_schema
from gateway.schema import QueryLimits
from tests.support.query_limits import assert_allowed, assert_refused, run


def tokens(count: int) -> str:
    """A document of exactly ``count`` lexical tokens (``{``, names, ``}``)."""
    return "{ " + "__typename " * (count - 2) + "}"


def test_tokens_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_tokens=50))
    assert_allowed(run(tokens(50), schema=schema))
    assert_refused(
        run(tokens(51), schema=schema),
        "token count exceeds the limit of 50 (GATEWAY_MAX_TOKENS); the document was not parsed "
        "further",
    )


def test_comments_count_as_tokens() -> None:
    schema = executable_schema(QueryLimits(max_tokens=50))
    padded = "# a comment\n" * 60 + "{ __typename }"
    assert run(padded, schema=schema).errors[0]["code"] == "QUERY_TOO_COMPLEX"


def test_other_syntax_errors_stay_bad_user_input() -> None:
    outcome = run("{ interviews { ")
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]
