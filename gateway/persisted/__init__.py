"""Persisted queries: Apollo's automatic persisted queries (APQ) and the trusted-documents mode.

A client that speaks APQ (Apollo Client's `createPersistedQueryLink`, urql's
`persistedExchange`) first sends only a document's SHA-256 hash in
`extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex digits>"}`. When the
gateway has not seen the hash it answers `PersistedQueryNotFound`, and the client sends the
request again with the full `query` beside the hash; the gateway checks that the hash is the
document's, remembers it, and runs it. From then on the hash alone is enough.

Three policies decide which document a request runs (the endpoint in `gateway.http` asks one
of them, after authentication and before execution):

- `AutomaticPersistedQueries` (the default): hashes are looked up in a `DocumentStore` (an
  in-process LRU by default; `RedisDocumentStore` when `GATEWAY_REDIS_URL` is set, so that a
  document registered on one replica is served by hash on every other); full queries with a
  hash register it once the schema has parsed and validated it (`RegisterPersistedQuery`);
  plain queries run as usual.
- `PersistedQueriesNotSupported` (`GATEWAY_APQ=false`): any request carrying the extension is
  answered `PersistedQueryNotSupported`, which makes the clients stop sending hashes.
- `TrustedDocumentsOnly` (`GATEWAY_TRUSTED_DOCUMENTS=path`): only the documents of a manifest
  loaded and validated at start run, by hash or by full text; nothing is ever registered.

Protocol answers (README "Persisted queries"): `PersistedQueryNotFound` and
`PersistedQueryNotSupported` are HTTP 200 whatever the response media type, uncacheable, as
Apollo Server sends them (Apollo Server's reason: intermediaries must not mask or cache the
body that makes the client retry); malformed extensions, a hash that does not match the query
and, in trusted mode, unknown documents are HTTP 400.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from graphql import GraphQLError, GraphQLSchema, parse, validate
from strawberry.extensions import SchemaExtension

from gateway.cache import SharedRedis, redis_key
from gateway.errors import GatewayError
from gateway.settings import PersistedQuerySettings, SettingsError

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
    "TrustedDocumentsOnly",
    "UntrustedDocument",
    "document_policy",
    "load_trusted_documents",
    "schema_extensions",
    "sha256_hex",
]

logger = logging.getLogger(__name__)

APQ_VERSION = 1
APQ_REDIS_TTL = 86_400
"""Seconds a document registered in Redis is kept (refreshed by each registration); a client
whose hash was forgotten sends the document again, as the protocol provides."""
APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
# Apollo Server's headers for these answers: the same request must reach the server again.
_UNCACHEABLE = {"Cache-Control": "private, no-cache, must-revalidate"}


def sha256_hex(document: str) -> str:
    """The hash clients send for `document`: SHA-256 of its UTF-8 text, lowercase hex."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


# --- errors ----------------------------------------------------------------------------------


class PersistedQueryError(GatewayError):
    """A persisted-query request the gateway answers without running anything.

    `http_status` is used whatever the response media type; `headers` go on the response.
    """

    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, message: str | None = None, *, http_status: int | None = None) -> None:
        super().__init__(message)
        if http_status is not None:
            self.http_status = http_status


class PersistedQueryNotFound(PersistedQueryError):
    """No document is known for the hash; an APQ client retries with the full query."""

    code = "PERSISTED_QUERY_NOT_FOUND"
    http_status = 200
    # Apollo Client matches the message or the code, urql only the message: keep both exact.
    default_message = "PersistedQueryNotFound"
    headers = _UNCACHEABLE


class PersistedQueryNotSupported(PersistedQueryError):
    """APQ is off; an APQ client stops sending hashes and retries with the full query."""

    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    http_status = 200
    default_message = "PersistedQueryNotSupported"
    headers = _UNCACHEABLE


class InvalidPersistedQuery(PersistedQueryError):
    """A malformed `persistedQuery` extension, an unsupported version, or a hash that is not
    the query's."""

    code = "BAD_USER_INPUT"
    http_status = 400
    default_message = "The persistedQuery extension is invalid."


class UntrustedDocument(PersistedQueryError):
    """Trusted-documents mode: the full query is not in the manifest."""

    code = "BAD_USER_INPUT"
    http_status = 400
    default_message = (
        "only trusted documents may run: this gateway runs only the documents listed in its "
        "trusted-documents manifest"
    )


# --- the request's extension -----------------------------------------------------------------


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash in `extensions.persistedQuery`, lowercased; None when the extension is absent.

    Raises `InvalidPersistedQuery` for an extension that is not `{"version": 1,
    "sha256Hash": "<64 hex digits>"}` (other keys, such as urql's `miss`, are ignored).
    """
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    extension = extensions["persistedQuery"]
    if not isinstance(extension, Mapping):
        raise InvalidPersistedQuery('"extensions.persistedQuery" must be a JSON object.')
    version = extension.get("version")
    if isinstance(version, bool) or version != APQ_VERSION:
        # Apollo Server's wording; version 1 is the only one there is.
        raise InvalidPersistedQuery(
            f"Unsupported persisted query version {version!r}; this gateway supports version "
            f"{APQ_VERSION}."
        )
    sha256_hash = extension.get("sha256Hash")
    if not isinstance(sha256_hash, str) or not _SHA256_HEX.fullmatch(sha256_hash.lower()):
        raise InvalidPersistedQuery(
            '"extensions.persistedQuery.sha256Hash" must be the SHA-256 of the query as 64 '
            "hexadecimal digits."
        )
    return sha256_hash.lower()


def _check_hash(sha256_hash: str, query: str) -> None:
    if sha256_hex(query) != sha256_hash:
        raise InvalidPersistedQuery("provided sha does not match query")


# --- stores ----------------------------------------------------------------------------------


class DocumentStore(Protocol):
    """Where APQ keeps registered documents, by their SHA-256 hex hash.

    Async so that a store shared by several gateway processes (Redis, say) fits the same
    slot. A store may forget any document at any time: clients then send it again.
    """

    async def get(self, sha256_hash: str) -> str | None:
        """The document registered under `sha256_hash`, or None."""
        ...

    async def put(self, sha256_hash: str, document: str) -> None:
        """Remember `document` (already checked to hash to `sha256_hash`)."""
        ...


class LRUDocumentStore:
    """An in-process store bounded by both a number of documents and their total UTF-8 size;
    the least recently used documents go first. A document larger than the whole byte budget
    is not kept (it still runs)."""

    def __init__(self, max_documents: int = 1000, max_bytes: int = 10 * 1_048_576) -> None:
        if max_documents < 1 or max_bytes < 1:
            raise ValueError("an LRU document store needs room for at least one document")
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._documents: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def size_bytes(self) -> int:
        """The UTF-8 size of every document held."""
        return self._bytes

    async def get(self, sha256_hash: str) -> str | None:
        """The document registered under `sha256_hash` (now the most recently used), or None."""
        entry = self._documents.get(sha256_hash)
        if entry is None:
            return None
        self._documents.move_to_end(sha256_hash)
        return entry[0]

    async def put(self, sha256_hash: str, document: str) -> None:
        """Keep `document`, evicting the least recently used ones until both bounds hold."""
        size = len(document.encode("utf-8"))
        if size > self.max_bytes:
            return
        previous = self._documents.pop(sha256_hash, None)
        if previous is not None:
            self._bytes -= previous[1]
        self._documents[sha256_hash] = (document, size)
        self._bytes += size
        while len(self._documents) > self.max_documents or self._bytes > self.max_bytes:
            _, (_, evicted_size) = self._documents.popitem(last=False)
            self._bytes -= evicted_size


class RedisDocumentStore:
    """Documents shared by every gateway process on one Redis, under
    `kombo-gateway:v1:apq:<sha256>` (the UTF-8 text, kept `APQ_REDIS_TTL` seconds), with this
    process's `LRUDocumentStore` in front: a document never changes under its hash, so a local
    copy is never stale and spares Redis a round trip per request.

    A document read from Redis is used only if it hashes to the hash asked (what another
    process wrote is checked, not trusted). A Redis outage reads as "not found" and drops
    registrations (`SharedRedis`): clients then send the document, which still runs.
    """

    def __init__(
        self, redis: SharedRedis, local: LRUDocumentStore, ttl: int = APQ_REDIS_TTL
    ) -> None:
        self.redis = redis
        self.local = local
        self.ttl = ttl

    async def get(self, sha256_hash: str) -> str | None:
        """The document from this process's LRU, else from Redis (then kept locally), or None."""
        document = await self.local.get(sha256_hash)
        if document is not None:
            return document
        stored = await self.redis.get(redis_key("apq", sha256_hash))
        if stored is None:
            return None
        try:
            document = stored.decode("utf-8")
        except UnicodeDecodeError:
            document = None
        if document is None or sha256_hex(document) != sha256_hash:
            logger.warning("ignoring an APQ document in Redis that does not match its hash")
            return None
        await self.local.put(sha256_hash, document)
        return document

    async def put(self, sha256_hash: str, document: str) -> None:
        """Keep `document` here and in Redis (unless larger than the local byte budget)."""
        await self.local.put(sha256_hash, document)
        encoded = document.encode("utf-8")
        if len(encoded) <= self.local.max_bytes:
            await self.redis.setex(redis_key("apq", sha256_hash), self.ttl, encoded)


# --- policies --------------------------------------------------------------------------------


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
        _check_hash(sha256_hash, query)
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
            _check_hash(sha256_hash, query)
        if self.documents.get(sha256_hash or sha256_hex(query)) is None:
            raise UntrustedDocument()
        return query


def document_policy(
    settings: PersistedQuerySettings, store: DocumentStore | None = None
) -> DocumentPolicy:
    """The policy `settings` ask for. APQ uses `store` (a `RedisDocumentStore`, say), or a
    new in-process LRU sized by the settings (one per process: with several workers, a client
    may register a document once per worker). Build the schema with the policy's
    `schema_extensions`, or APQ registers nothing."""
    if settings.trusted_documents is not None:
        logger.info(
            "trusted documents: only the %d documents of %s run",
            len(settings.trusted_documents),
            settings.trusted_documents.source,
        )
        return TrustedDocumentsOnly(settings.trusted_documents)
    if not settings.apq:
        return PersistedQueriesNotSupported()
    if store is None:
        store = LRUDocumentStore(settings.cache_size, settings.cache_bytes)
    return AutomaticPersistedQueries(store)


# --- trusted documents -----------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedDocuments:
    """The documents of a trusted-documents manifest, by SHA-256 hex hash, all checked to parse
    and validate against the schema."""

    documents: Mapping[str, str]
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.documents)

    def get(self, sha256_hash: str) -> str | None:
        """The document with this hash, or None."""
        return self.documents.get(sha256_hash)


class TrustedDocumentsError(SettingsError):
    """The trusted-documents manifest cannot be used; the message names the file and entry."""


def load_trusted_documents(
    path: str | Path, schema: GraphQLSchema | None = None
) -> TrustedDocuments:
    """Read and check a manifest (see `parse_manifest`) against `schema` (the gateway's own
    when None). Raises `TrustedDocumentsError` naming the file and, when one is at fault, the
    entry."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrustedDocumentsError(f"GATEWAY_TRUSTED_DOCUMENTS: no such file {source!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustedDocumentsError(
            f"GATEWAY_TRUSTED_DOCUMENTS: cannot read {source!r}: {exc}"
        ) from None
    if schema is None:
        from gateway.schema import build_schema

        schema = build_schema()._schema
    return parse_manifest(text, schema, source)


def parse_manifest(text: str, schema: GraphQLSchema, source: str = "<memory>") -> TrustedDocuments:
    """A manifest in one of two formats:

    - Apollo's persisted-query manifest: `{"format": "apollo-persisted-query-manifest",
      "version": 1, "operations": [{"id", "name", "type", "body"}, ...]}`, where `id` is the
      SHA-256 of `body` (the generator's default);
    - a plain map `{"<sha256>": "<document>", ...}` (GraphQL Code Generator's
      `persisted-documents.json`; keys may carry a `sha256:` prefix).

    Every hash must be its document's SHA-256, and every document must parse and validate
    against `schema`; the first entry that does not is named in the `TrustedDocumentsError`.
    """
    where = f"GATEWAY_TRUSTED_DOCUMENTS ({source})"
    try:
        payload = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        raise TrustedDocumentsError(f"{where}: the key {exc.key!r} appears twice") from None
    except (ValueError, RecursionError) as exc:
        raise TrustedDocumentsError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise TrustedDocumentsError(
            f"{where}: expected a JSON object (Apollo's persisted-query manifest, or a map "
            "from SHA-256 hashes to documents)"
        )

    entries: list[tuple[str, str, object]]  # (entry name, hash, document)
    if "format" in payload or "operations" in payload:
        entries = _apollo_entries(payload, where)
    else:
        entries = [
            (f"entry {key!r}", key.removeprefix("sha256:"), document)
            for key, document in payload.items()
        ]
    if not entries:
        raise TrustedDocumentsError(f"{where}: the manifest lists no documents")

    documents: dict[str, str] = {}
    for entry, sha256_hash, document in entries:
        prefix = f"{where}, {entry}"
        if not isinstance(document, str) or not document.strip():
            raise TrustedDocumentsError(f"{prefix}: the document must be a non-empty string")
        if not _SHA256_HEX.fullmatch(sha256_hash):
            raise TrustedDocumentsError(
                f"{prefix}: the hash must be a SHA-256 as 64 lowercase hexadecimal digits, "
                f"got {sha256_hash!r}"
            )
        actual = sha256_hex(document)
        if actual != sha256_hash:
            raise TrustedDocumentsError(
                f"{prefix}: the hash is not the document's SHA-256 (the document hashes to "
                f"{actual})"
            )
        errors = document_errors(schema, document)
        if errors:
            raise TrustedDocumentsError(f"{prefix}: the document is invalid: {errors[0]}")
        documents[sha256_hash] = document
    return TrustedDocuments(documents, source)


def _apollo_entries(payload: dict[str, Any], where: str) -> list[tuple[str, str, object]]:
    if payload.get("format") != APOLLO_MANIFEST_FORMAT:
        raise TrustedDocumentsError(
            f"{where}: unknown manifest format {payload.get('format')!r}; expected "
            f"{APOLLO_MANIFEST_FORMAT!r}"
        )
    if payload.get("version") != 1 or isinstance(payload.get("version"), bool):
        raise TrustedDocumentsError(
            f"{where}: unsupported {APOLLO_MANIFEST_FORMAT} version "
            f"{payload.get('version')!r}; expected 1"
        )
    operations = payload.get("operations")
    if not isinstance(operations, list):
        raise TrustedDocumentsError(f'{where}: "operations" must be a list')
    entries: list[tuple[str, str, object]] = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise TrustedDocumentsError(f"{where}, operations[{index}]: must be a JSON object")
        name = operation.get("name")
        label = f"operations[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")
        sha256_hash = operation.get("id")
        if not isinstance(sha256_hash, str):
            raise TrustedDocumentsError(f'{where}, {label}: "id" must be a string')
        entries.append((label, sha256_hash, operation.get("body")))
    return entries


def document_errors(schema: GraphQLSchema, document: str) -> list[str]:
    """Why `document` would not pass parsing and validation against `schema`; empty if it
    would."""
    try:
        ast = parse(document)
    except GraphQLError as error:
        return [error.message]
    return [error.message for error in validate(schema, ast)]


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys silently; a manifest should say what it means.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result
