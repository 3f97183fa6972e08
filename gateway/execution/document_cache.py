"""Parse and validate each document once: frontends send the same few documents again and again.

One process-wide cache, :data:`DOCUMENTS`, keeps the parsed document of each recent query text
and remembers which schema and validation rules it passed. It is bounded three ways, so that
what a client can make the gateway keep stays small whatever it sends:

- a document larger than :data:`MAX_CACHED_DOCUMENT_BYTES` (UTF-8) is never cached: it is
  parsed and validated on every request, as without the cache (a single token, a comment or a
  string, can be a megabyte and still pass the token limit). The fast path's plan cache
  (:mod:`gateway.execution.fastpath`) applies the same rule;
- at most :data:`DOCUMENT_CACHE_SIZE` documents;
- at most :data:`DOCUMENT_CACHE_BYTES` of estimated memory. A parsed document costs far more
  than its text: about :data:`AST_BYTES_PER_TOKEN` per token (measured with graphql-core 3.3),
  so 16 KiB of ``a a a ...`` is a 4 MiB tree. Counting documents alone would let 512 such
  documents hold 2 GiB.

The least recently used documents are dropped first. A document that does not parse, or does
not validate, is not remembered as such: Strawberry parses or validates it again and reports
its errors the usual way (shaped by the limits and
:class:`~gateway.schema.error_handling.ContractErrors`), exactly as without the cache.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, Token, parse
from strawberry.extensions import SchemaExtension

from gateway.lru import BoundedLRU

__all__ = [
    "AST_BYTES_PER_TOKEN",
    "DOCUMENTS",
    "DOCUMENT_CACHE_BYTES",
    "DOCUMENT_CACHE_SIZE",
    "MAX_CACHED_DOCUMENT_BYTES",
    "DocumentCache",
    "ParseCache",
    "ValidationCache",
    "cacheable",
]

MAX_CACHED_DOCUMENT_BYTES = 16 * 1024
"""Documents larger than this (UTF-8) are never cached, parsed, validated or planned; they run
as usual. Hand-written and generated frontend documents are a few KiB."""

DOCUMENT_CACHE_SIZE = 512
"""Documents whose parse and validation each process keeps."""

DOCUMENT_CACHE_BYTES = 32 * 1_048_576
"""Estimated memory the cached documents may take, parsed trees included."""

AST_BYTES_PER_TOKEN = 600
"""Memory a parsed document takes per token (tokens, AST nodes and locations; ~560 measured)."""

Rules = tuple[type[ASTValidationRule], ...]
_Key = tuple[str, tuple[tuple[str, Any], ...]]  # the query text, the parse options


def cacheable(document: str) -> bool:
    """Whether ``document`` is small enough to cache: at most :data:`MAX_CACHED_DOCUMENT_BYTES`
    of UTF-8 (a lone surrogate, which JSON can carry, counts as its 3 bytes)."""
    length = len(document)
    if length > MAX_CACHED_DOCUMENT_BYTES:
        return False
    if length * 4 <= MAX_CACHED_DOCUMENT_BYTES:
        return True
    return len(document.encode("utf-8", "surrogatepass")) <= MAX_CACHED_DOCUMENT_BYTES


@dataclass(slots=True)
class _Entry:
    document: DocumentNode
    cost: int
    valid_for: set[tuple[GraphQLSchema, Rules]] = field(default_factory=set)


def _cost(text: str, document: DocumentNode) -> int:
    # The text is held twice at most (the source, and the values of string and comment tokens).
    tokens = 0
    if document.loc is not None:
        token: Token | None = document.loc.start_token
        while token is not None:
            tokens += 1
            token = token.next
    else:
        tokens = len(text)
    return 2 * len(text) + AST_BYTES_PER_TOKEN * tokens


class DocumentCache:
    """Parsed documents by query text and parse options, with the validations they passed;
    bounded by :data:`MAX_CACHED_DOCUMENT_BYTES` per document, a number of documents and
    their estimated memory (see the module's docstring)."""

    def __init__(
        self, max_documents: int = DOCUMENT_CACHE_SIZE, max_bytes: int = DOCUMENT_CACHE_BYTES
    ) -> None:
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._entries: BoundedLRU[_Key, _Entry] = BoundedLRU(max_documents, max_bytes)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, query: object) -> bool:
        """Whether some parse of the query text ``query`` is cached."""
        return any(key[0] == query for key in self._entries)

    @property
    def size_bytes(self) -> int:
        """The estimated memory of the cached documents."""
        return self._entries.size_bytes

    def clear(self) -> None:
        """Forget every document."""
        with self._lock:
            self._entries.clear()

    def parse(self, query: str, options: Mapping[str, Any]) -> DocumentNode | None:
        """The parsed ``query`` (the cached tree when there is one), or None when it is too
        large to cache. Raises graphql-core's ``GraphQLError`` when it does not parse."""
        if not cacheable(query):
            return None
        key = _key(query, options)
        try:
            hash(key)
        except TypeError:  # options a cache cannot key on: parse as without the cache
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                return entry.document
        document = parse(query, **options)
        entry = _Entry(document, _cost(query, document))
        with self._lock:
            self._entries.put(key, entry, entry.cost)
        return document

    def validated(
        self,
        query: str,
        options: Mapping[str, Any],
        document: DocumentNode,
        schema: GraphQLSchema,
        rules: Rules,
    ) -> bool:
        """Whether ``document``, the cached parse of ``query``, passed ``rules`` against
        ``schema`` before."""
        entry = self._entry(query, options, document)
        return entry is not None and (schema, rules) in entry.valid_for

    def mark_valid(
        self,
        query: str,
        options: Mapping[str, Any],
        document: DocumentNode,
        schema: GraphQLSchema,
        rules: Rules,
    ) -> None:
        """Remember that ``document`` (if it is still the cached parse of ``query``) passed
        ``rules`` against ``schema``."""
        entry = self._entry(query, options, document)
        if entry is not None:
            entry.valid_for.add((schema, rules))

    def _entry(
        self, query: str, options: Mapping[str, Any], document: DocumentNode
    ) -> _Entry | None:
        if not cacheable(query):
            return None
        try:
            entry = self._entries.peek(_key(query, options))
        except TypeError:
            return None
        return entry if entry is not None and entry.document is document else None


def _key(query: str, options: Mapping[str, Any]) -> _Key:
    return query, tuple(sorted(options.items()))


DOCUMENTS = DocumentCache()
"""The documents every schema of this process shares (keyed by schema where it matters)."""


class ParseCache(SchemaExtension):
    """Strawberry's ParserCache over :data:`DOCUMENTS`, except that a document that does not
    parse or is too large to cache is left to Strawberry's own parsing, so its error is
    reported (and shaped by the limits and
    :class:`~gateway.schema.error_handling.ContractErrors`) exactly as without the cache."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None:
            # A document that does not parse is not cached: Strawberry parses it again and
            # reports the error its usual way.
            with contextlib.suppress(GraphQLError):
                document = DOCUMENTS.parse(context.query, context.parse_options)
                if document is not None:
                    context.graphql_document = document
        yield


class ValidationCache(SchemaExtension):
    """Strawberry's ValidationCache over :data:`DOCUMENTS`: a cached document that passed
    the same rules against the same schema is not validated again. Only successes are
    remembered (a document with errors is validated, and its errors reported, afresh), and only
    for documents :class:`ParseCache` keeps, so the same bounds hold. List it after
    :class:`ParseCache` and the extensions that add validation rules."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query, document = context.query, context.graphql_document
        if query is None or document is None:
            yield
            return
        schema = context.schema._schema
        rules = tuple(context.validation_rules)
        options = context.parse_options
        if context.pre_execution_errors is None and DOCUMENTS.validated(
            query, options, document, schema, rules
        ):
            context.pre_execution_errors = []
            yield
            return
        yield
        if context.pre_execution_errors == []:
            DOCUMENTS.mark_valid(query, options, document, schema, rules)
