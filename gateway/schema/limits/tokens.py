"""The token limit (``GATEWAY_MAX_TOKENS``): graphql-core's parser stops counting at the limit, so
a huge document is never parsed in full (Strawberry's :class:`MaxTokensLimiter`; comments count
too, since the parser keeps them in memory as well). README "Limits".
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import MaxTokensLimiter

from gateway.schema.limits.refusal import VARIABLE, too_complex

__all__ = ["TokenLimit"]


class TokenLimit(MaxTokensLimiter):
    """Strawberry's token limit (the parser aborts at the limit), with our code and message.

    When the parse step ends in a syntax error, the limiter checks whether the parser stopped
    at its limit: graphql-core raises that error at the start of the first token past the
    limit (comments count, as for graphql-core), where no other syntax error can stop it.
    """

    _stopped: GraphQLError | None = None

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = context.pre_execution_errors
        if context.graphql_document is not None or not errors or context.query is None:
            return
        [error] = errors  # Strawberry's parse step reports the one error it caught
        position = next(iter(error.positions or ()), None)
        if position is not None and position == _token_start(
            context.query, self.max_token_count + 1
        ):
            self._stopped = error

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        if self._stopped is None or result is None or not result.errors:
            return
        message = (
            f"token count exceeds the limit of {self.max_token_count} "
            f"({VARIABLE['max_tokens']}); the document was not parsed further"
        )
        result.errors = [
            too_complex(message) if error is self._stopped else error for error in result.errors
        ]


def _token_start(query: str, number: int) -> int | None:
    """Where token ``number`` (from 1, comments included) of ``query`` starts; None when the
    document has fewer, or one of them does not lex. Reads at most ``number`` tokens, one at a
    time (none is kept)."""
    lexer = Lexer(Source(query))
    end = 0
    start = None
    for _ in range(number):
        try:
            token = lexer.read_next_token(end)
        except GraphQLError:
            return None
        if token.kind is TokenKind.EOF:
            return None
        start, end = token.start, token.end
    return start
