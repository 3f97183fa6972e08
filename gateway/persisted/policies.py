"""Which document a request runs: the three policies the endpoint asks after authentication
and before execution, and APQ's registration as a schema extension.

- `AutomaticPersistedQueries` (the default): hashes are looked up in a `DocumentStore`; full
  queries with a hash register it once the schema has parsed and validated it
  (`RegisterPersistedQuery`); plain queries run as usual.
- `PersistedQueriesNotSupported` (`GATEWAY_APQ=false`): any request carrying the extension is
  answered `PersistedQueryNotSupported`, which makes the clients stop sending hashes.
- `TrustedDocumentsOnly` (`GATEWAY_TRUSTED_DOCUMENTS=path`): only the documents of a manifest
  loaded and validated at start run, by hash or by full text; nothing is ever registered.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from strawberry.extensions import SchemaExtension

from gateway.config import PersistedQuerySettings
from gateway.errors import (
    InvalidPersistedQuery,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    UntrustedDocument,
)
from gateway.persisted.protocol import check_hash, requested_hash, sha256_hex
from gateway.persisted.stores import DocumentStore, LRUDocumentStore

if TYPE_CHECKING:
    from gateway.persisted.manifest import TrustedDocuments

__all__ = [
    "AutomaticPersistedQueries",
    "DocumentPolicy",
    "PersistedQueriesNotSupported",
    "RegisterPersistedQuery",
    "TrustedDocumentsOnly",
    "document_policy",
    "schema_extensions",
]

# The package's logger, as before the split: log lines keep their logger name.
logger = logging.getLogger("gateway.persisted")


class DocumentPolicy(Protocol):
    """Decides the document a request runs, from its `query` (None when the request sent only
    a hash) and its `extensions`; raises `PersistedQueryError` to answer without running."""

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The document to run."""
        ...


class AutomaticPersistedQueries:
    """APQ over a `DocumentStore`.

    A full query sent with its hash is checked against the hash here, and registered only once
    the schema itself has parsed and validated it, with the request's limits (tokens, depth,
    aliases): see `RegisterPersistedQuery`, which `schema_extensions` adds to the schema. So
    registering costs nothing beyond running the document, a document the gateway refuses is
    never stored, and garbage cannot crowd out real documents (it still runs, and fails, as
    usual).
    """

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """Look a hash up, or check a full query sent with its hash (registered later, by
        `RegisterPersistedQuery`, if it validates)."""
        sha256_hash = requested_hash(extensions)
        if sha256_hash is None:
            if query is None:  # the endpoint sends None only with the extension present
                raise InvalidPersistedQuery('The request has no "query".')
            return query
        if query is None:
            document = await self.store.get(sha256_hash)
            if document is None:
                raise PersistedQueryNotFound()
            return document
        check_hash(sha256_hash, query)
        return query

    def registration(self) -> RegisterPersistedQuery:
        """A `RegisterPersistedQuery` over this policy's store (a per-request extension)."""
        return RegisterPersistedQuery(self.store)


class RegisterPersistedQuery(SchemaExtension):
    """Registers the document of a request that carries an APQ hash, once the schema's own
    pipeline has parsed and validated it: the token limit stops the parser early, and the depth
    and alias limits are validation rules, so a huge or hostile document is refused as cheaply
    as without the hash, and is not stored.

    Runs when validation ends without errors. The hash comes from the request's extensions,
    which the endpoint passes to `Schema.execute` (`operation_extensions`); a document already
    in the store (a request that sent only the hash, say) is not written again, and one that
    does not hash to the hash is ignored (`AutomaticPersistedQueries.resolve` has refused that
    request already).
    """

    def __init__(self, store: DocumentStore) -> None:
        super().__init__()
        self.store = store

    async def on_validate(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context
        query = context.query
        if query is None or context.pre_execution_errors or context.graphql_document is None:
            return
        try:
            sha256_hash = requested_hash(context.operation_extensions)
        except InvalidPersistedQuery:
            return
        if sha256_hash is None or await self.store.get(sha256_hash) is not None:
            return
        if sha256_hex(query) == sha256_hash:
            await self.store.put(sha256_hash, query)


def schema_extensions(policy: DocumentPolicy) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions `policy` needs (`build_schema(extensions=...)`): APQ's
    registration; nothing for the other policies."""
    if isinstance(policy, AutomaticPersistedQueries):
        return [policy.registration]
    return []


class PersistedQueriesNotSupported:
    """`GATEWAY_APQ=false`: requests carrying the extension are refused, the rest run."""

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The query itself; `PersistedQueryNotSupported` when the extension is present."""
        if extensions and extensions.get("persistedQuery") is not None:
            raise PersistedQueryNotSupported()
        if query is None:
            raise InvalidPersistedQuery('The request has no "query".')
        return query


class TrustedDocumentsOnly:
    """Only the manifest's documents run: by hash, or as a full query whose hash is listed."""

    def __init__(self, documents: TrustedDocuments) -> None:
        self.documents = documents

    async def resolve(self, query: str | None, extensions: Mapping[str, Any] | None) -> str:
        """The listed document; `PersistedQueryNotFound` (400) or `UntrustedDocument` else."""
        sha256_hash = requested_hash(extensions)
        if query is None:
            if sha256_hash is None:  # the endpoint sends None only with the extension present
                raise InvalidPersistedQuery('The request has no "query".')
            document = self.documents.get(sha256_hash)
            if document is None:
                raise PersistedQueryNotFound(
                    "PersistedQueryNotFound: no trusted document has this hash; this gateway "
                    "runs only the documents listed in its trusted-documents manifest.",
                    http_status=400,
                )
            return document
        if sha256_hash is not None:
            check_hash(sha256_hash, query)
        if self.documents.get(sha256_hash or sha256_hex(query)) is None:
            raise UntrustedDocument()
        return query


def document_policy(
    settings: PersistedQuerySettings,
    store: DocumentStore | None = None,
    *,
    trusted_documents: TrustedDocuments | None = None,
) -> DocumentPolicy:
    """The policy `settings` ask for. `trusted_documents` (the manifest of
    `settings.trusted_documents_path`, loaded by `load_trusted_documents`) win over APQ. APQ
    uses `store` (a `RedisDocumentStore`, say), or a new in-process LRU sized by the settings
    (one per process: with several workers, a client may register a document once per worker).
    Build the schema with the policy's `schema_extensions`, or APQ registers nothing."""
    if trusted_documents is not None:
        logger.info(
            "trusted documents: only the %d documents of %s run",
            len(trusted_documents),
            trusted_documents.source,
        )
        return TrustedDocumentsOnly(trusted_documents)
    if not settings.apq:
        return PersistedQueriesNotSupported()
    if store is None:
        store = LRUDocumentStore(settings.cache_size, settings.cache_bytes)
    return AutomaticPersistedQueries(store)
