"""Parse each document once: frontends send the same few documents again and again."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension

DOCUMENT_CACHE_SIZE = 512
"""Documents whose parse (and, with Strawberry's ValidationCache, validation) each process keeps."""

_cached_parse: Callable[..., Any] = lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(parse)


class ParseCache(SchemaExtension):
    """Strawberry's ParserCache, except that a document that does not parse is left to
    Strawberry's own parsing, so its error is reported (and shaped by the limits and
    :class:`~gateway.schema.error_handling.ContractErrors`) exactly as without the cache."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # A document that does not parse is not cached: Strawberry parses it again and reports
        # the error its usual way.
        with contextlib.suppress(GraphQLError):
            context.graphql_document = _cached_parse(context.query, **context.parse_options)
        yield
