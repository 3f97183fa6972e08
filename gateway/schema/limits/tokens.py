"""The token limit (``GATEWAY_MAX_TOKENS``): graphql-core's parser stops counting at the limit, so
a huge document is never parsed in full (Strawberry's :class:`MaxTokensLimiter`; comments count
too, since the parser keeps them in memory as well). README "Limits".
"""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import MaxTokensLimiter

from gateway.schema.limits.refusal import VARIABLE, too_complex

__all__ = ["TokenLimit"]


class TokenLimit(MaxTokensLimiter):
    """Strawberry's token limit (the parser aborts at the limit), with our code and message."""

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        # graphql-core's message; matched on text since the error may already be translated.
        parser_message = f"more than {self.max_token_count} tokens. Parsing aborted."
        message = (
            f"token count exceeds the limit of {self.max_token_count} "
            f"({VARIABLE['max_tokens']}); the document was not parsed further"
        )
        result.errors = [
            too_complex(message) if error.message.endswith(parser_message) else error
            for error in result.errors
        ]
