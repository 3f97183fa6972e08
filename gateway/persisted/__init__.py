"""Persisted queries: Apollo's automatic persisted queries (APQ) and the trusted-documents mode.

A client that speaks APQ (Apollo Client's `createPersistedQueryLink`, urql's
`persistedExchange`) first sends only a document's SHA-256 hash in
`extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex digits>"}`. When the
gateway has not seen the hash it answers `PersistedQueryNotFound`, and the client sends the
request again with the full `query` beside the hash; the gateway checks that the hash is the
document's, remembers it, and runs it. From then on the hash alone is enough.

Three policies decide which document a request runs (the endpoint in `gateway.http` asks one
of them, after authentication and before execution; `policies`):

- `AutomaticPersistedQueries` (the default): hashes are looked up in a `DocumentStore` (an
  in-process LRU by default; `RedisDocumentStore` when `GATEWAY_REDIS_URL` is set, so that a
  document registered on one replica is served by hash on every other); full queries with a
  hash register it once the schema has parsed and validated it (`RegisterPersistedQuery`);
  plain queries run as usual.
- `PersistedQueriesNotSupported` (`GATEWAY_APQ=false`): any request carrying the extension is
  answered `PersistedQueryNotSupported`, which makes the clients stop sending hashes.
- `TrustedDocumentsOnly` (`GATEWAY_TRUSTED_DOCUMENTS=path`): only the documents of a manifest
  loaded and validated at start run, by hash or by full text; nothing is ever registered.

The package: `protocol` (the hash and the request's extension), `stores` (in-process LRU,
Redis), `policies` (the three policies and APQ's registration), `manifest` (trusted documents).
The error classes live in `gateway.errors` with every other gateway error.

Protocol answers (README "Persisted queries"): `PersistedQueryNotFound` and
`PersistedQueryNotSupported` are HTTP 200 whatever the response media type, uncacheable, as
Apollo Server sends them (Apollo Server's reason: intermediaries must not mask or cache the
body that makes the client retry); malformed extensions, a hash that does not match the query
and, in trusted mode, unknown documents are HTTP 400.
"""

from __future__ import annotations

from gateway.errors import (
    InvalidPersistedQuery,
    PersistedQueryError,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    UntrustedDocument,
)
from gateway.persisted.manifest import (
    TrustedDocuments,
    TrustedDocumentsError,
    load_trusted_documents,
    parse_manifest,
)
from gateway.persisted.policies import (
    AutomaticPersistedQueries,
    DocumentPolicy,
    PersistedQueriesNotSupported,
    RegisterPersistedQuery,
    TrustedDocumentsOnly,
    document_policy,
    schema_extensions,
)
from gateway.persisted.protocol import APQ_VERSION, requested_hash, sha256_hex
from gateway.persisted.stores import DocumentStore, LRUDocumentStore, RedisDocumentStore

__all__ = [
    "APQ_VERSION",
    "AutomaticPersistedQueries",
    "DocumentPolicy",
    "DocumentStore",
    "InvalidPersistedQuery",
    "LRUDocumentStore",
    "PersistedQueriesNotSupported",
    "PersistedQueryError",
    "PersistedQueryNotFound",
    "PersistedQueryNotSupported",
    "RedisDocumentStore",
    "RegisterPersistedQuery",
    "TrustedDocuments",
    "TrustedDocumentsError",
    "TrustedDocumentsOnly",
    "UntrustedDocument",
    "document_policy",
    "load_trusted_documents",
    "parse_manifest",
    "requested_hash",
    "schema_extensions",
    "sha256_hex",
]
