"""`gateway.persisted` without a server: the extension's checks, the LRU store's bounds, the
three document policies, manifests and their settings."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from graphql import GraphQLSchema

from gateway.persisted import (
    AutomaticPersistedQueries,
    InvalidPersistedQuery,
    LRUDocumentStore,
    PersistedQueriesNotSupported,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    RegisterPersistedQuery,
    TrustedDocuments,
    TrustedDocumentsError,
    TrustedDocumentsOnly,
    UntrustedDocument,
    document_policy,
    parse_manifest,
    requested_hash,
    schema_extensions,
    sha256_hex,
)
from gateway.schema import QueryLimits, build_schema
from gateway.settings import PersistedQuerySettings, Settings, SettingsError

T = TypeVar("T")

TYPENAME = "{ __typename }"
TYPENAME_HASH = "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
INTERVIEWS = "query Ids { interviews(first: 2) { nodes { id } } }"


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema()._schema


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def persisted(sha256_hash: str, version: object = 1, **extra: object) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash, **extra}}


def test_sha256_hex_is_the_hash_apollo_clients_send() -> None:
    # SHA-256 of the exact UTF-8 text, lowercase hex: whitespace matters.
    assert sha256_hex(TYPENAME) == TYPENAME_HASH
    assert sha256_hex("{__typename}") == (
        "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
    )
    assert sha256_hex("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"


# --- the extension ---------------------------------------------------------------------------


def test_requested_hash_reads_version_1_and_lowercases() -> None:
    assert requested_hash(None) is None
    assert requested_hash({}) is None
    assert requested_hash({"persistedQuery": None}) is None
    assert requested_hash(persisted(TYPENAME_HASH.upper())) == TYPENAME_HASH
    # urql marks its retry with `miss: true`; unknown keys are ignored.
    assert requested_hash(persisted(TYPENAME_HASH, miss=True)) == TYPENAME_HASH


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_only_version_1_is_supported(version: object) -> None:
    with pytest.raises(InvalidPersistedQuery, match="Unsupported persisted query version") as info:
        requested_hash(persisted(TYPENAME_HASH, version=version))
    assert (info.value.code, info.value.http_status) == ("BAD_USER_INPUT", 400)


@pytest.mark.parametrize("sha256_hash", [None, 42, "", "abc", TYPENAME_HASH + "0", "g" * 64])
def test_hash_must_be_64_hex_digits(sha256_hash: object) -> None:
    with pytest.raises(InvalidPersistedQuery, match="sha256Hash"):
        requested_hash(persisted(sha256_hash))  # type: ignore[arg-type]


def test_extension_must_be_an_object() -> None:
    with pytest.raises(InvalidPersistedQuery, match="must be a JSON object"):
        requested_hash({"persistedQuery": "yes"})


# --- the LRU store ---------------------------------------------------------------------------


def test_lru_keeps_at_most_max_documents_evicting_the_least_recently_used() -> None:
    store = LRUDocumentStore(max_documents=2, max_bytes=1_000)

    async def scenario() -> list[str | None]:
        await store.put("a", "{ a }")
        await store.put("b", "{ b }")
        await store.get("a")  # a is now more recent than b
        await store.put("c", "{ c }")
        return [await store.get(key) for key in ("a", "b", "c")]

    assert run(scenario()) == ["{ a }", None, "{ c }"]
    assert len(store) == 2


def test_lru_keeps_at_most_max_bytes() -> None:
    store = LRUDocumentStore(max_documents=100, max_bytes=10)

    async def scenario() -> list[str | None]:
        await store.put("a", "aaaa")
        await store.put("b", "bbbb")
        await store.put("c", "cccc")  # 12 bytes: a goes
        return [await store.get(key) for key in ("a", "b", "c")]

    assert run(scenario()) == [None, "bbbb", "cccc"]
    assert store.size_bytes == 8


def test_lru_counts_utf8_bytes_and_skips_documents_larger_than_the_budget() -> None:
    store = LRUDocumentStore(max_documents=100, max_bytes=10)

    async def scenario() -> list[str | None]:
        await store.put("a", "ééé")  # 6 bytes, 3 characters
        await store.put("huge", "x" * 11)
        return [await store.get("a"), await store.get("huge")]

    assert run(scenario()) == ["ééé", None]
    assert store.size_bytes == 6


def test_lru_replacing_a_document_does_not_count_it_twice() -> None:
    store = LRUDocumentStore(max_documents=10, max_bytes=100)

    async def scenario() -> None:
        for _ in range(5):
            await store.put("a", "x" * 30)

    run(scenario())
    assert (len(store), store.size_bytes) == (1, 30)


def test_lru_needs_room() -> None:
    with pytest.raises(ValueError):
        LRUDocumentStore(max_documents=0)


# --- policies --------------------------------------------------------------------------------


def test_apq_unknown_hash_is_not_found_with_apollos_message_and_status_200() -> None:
    policy = AutomaticPersistedQueries(LRUDocumentStore())

    with pytest.raises(PersistedQueryNotFound) as info:
        run(policy.resolve(None, persisted(TYPENAME_HASH)))

    error = info.value
    assert (error.message, error.code, error.http_status) == (
        "PersistedQueryNotFound",
        "PERSISTED_QUERY_NOT_FOUND",
        200,
    )
    assert error.extensions() == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert error.headers == {"Cache-Control": "private, no-cache, must-revalidate"}


def apq_schema(policy: AutomaticPersistedQueries, limits: QueryLimits | None = None) -> Any:
    """The gateway's schema with APQ's registration, as the app builds it."""
    return build_schema(limits, extensions=schema_extensions(policy))


async def apq_request(
    schema: Any,
    policy: AutomaticPersistedQueries,
    query: str | None,
    extensions: dict[str, Any] | None,
) -> Any:
    """What the endpoint does: the policy picks the document, the schema runs it."""
    document = await policy.resolve(query, extensions)
    return await schema.execute(document, operation_extensions=extensions)


def test_apq_registers_a_full_query_once_it_validates_then_serves_its_hash() -> None:
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)
    schema = apq_schema(policy)
    extensions = persisted(TYPENAME_HASH)

    # The policy only checks the hash: the schema registers the document once it validates.
    assert run(policy.resolve(TYPENAME, extensions)) == TYPENAME
    assert len(store) == 0
    result = run(apq_request(schema, policy, TYPENAME, extensions))
    assert (result.data, result.errors) == ({"__typename": "Query"}, None)
    assert len(store) == 1

    assert run(policy.resolve(None, extensions)) == TYPENAME
    result = run(apq_request(schema, policy, None, extensions))
    assert result.data == {"__typename": "Query"}
    assert len(store) == 1


def test_apq_refuses_a_hash_that_is_not_the_querys() -> None:
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)

    with pytest.raises(InvalidPersistedQuery, match="provided sha does not match query"):
        run(policy.resolve(INTERVIEWS, persisted(TYPENAME_HASH)))
    # Nor does the registration store a document under another document's hash.
    run(apq_schema(policy).execute(TYPENAME, operation_extensions=persisted(sha256_hex("{ x }"))))
    assert len(store) == 0


def test_apq_does_not_store_documents_that_would_not_validate() -> None:
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)
    schema = apq_schema(policy)
    for document in ("{ noSuchField }", "{ unclosed"):
        # They still run (and fail as usual); they are only not remembered.
        result = run(apq_request(schema, policy, document, persisted(sha256_hex(document))))
        assert result.errors
    assert len(store) == 0


def aliases_over_the_token_limit(max_tokens: int) -> str:
    """A document that is valid but for the limits: `a0: __typename` is 3 tokens."""
    return "{ " + " ".join(f"a{i}: __typename" for i in range(max_tokens // 3 + 1)) + " }"


def test_apq_refuses_a_document_over_the_token_limit_quickly_and_does_not_store_it() -> None:
    # Before the fix, a document sent with its hash was parsed and validated in full, with no
    # limit, before the schema's own (limited) pipeline ran, and stored when valid.
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)
    limits = QueryLimits()
    schema = apq_schema(policy, limits)
    document = aliases_over_the_token_limit(limits.max_tokens)
    extensions = persisted(sha256_hex(document))

    started = time.perf_counter()
    result = run(apq_request(schema, policy, document, extensions))
    elapsed = time.perf_counter() - started

    assert result.data is None
    [error] = result.errors
    assert error.message == (
        f"token count exceeds the limit of {limits.max_tokens} (GATEWAY_MAX_TOKENS); the "
        "document was not parsed further"
    )
    assert error.extensions == {"code": "QUERY_TOO_COMPLEX"}
    assert elapsed < 1.0
    assert len(store) == 0
    with pytest.raises(PersistedQueryNotFound):
        run(policy.resolve(None, extensions))


def test_apq_does_not_store_a_document_over_the_depth_or_alias_limits() -> None:
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)
    schema = apq_schema(policy, QueryLimits(max_aliases=2))
    document = "{ a: __typename b: __typename c: __typename }"

    result = run(apq_request(schema, policy, document, persisted(sha256_hex(document))))

    assert [error.extensions for error in result.errors] == [{"code": "QUERY_TOO_COMPLEX"}]
    assert len(store) == 0


def test_apq_plain_queries_run_unchanged() -> None:
    store = LRUDocumentStore()
    policy = AutomaticPersistedQueries(store)
    schema = apq_schema(policy)

    assert run(policy.resolve(TYPENAME, None)) == TYPENAME
    assert run(policy.resolve(TYPENAME, {"other": 1})) == TYPENAME
    run(apq_request(schema, policy, TYPENAME, None))
    run(apq_request(schema, policy, TYPENAME, {"other": 1}))
    assert len(store) == 0


def test_disabled_apq_answers_not_supported_whenever_the_extension_is_sent() -> None:
    policy = PersistedQueriesNotSupported()

    for query in (None, TYPENAME):
        with pytest.raises(PersistedQueryNotSupported) as info:
            run(policy.resolve(query, persisted(TYPENAME_HASH)))
        assert (info.value.message, info.value.code, info.value.http_status) == (
            "PersistedQueryNotSupported",
            "PERSISTED_QUERY_NOT_SUPPORTED",
            200,
        )
    assert run(policy.resolve(TYPENAME, None)) == TYPENAME


def test_trusted_documents_run_by_hash_or_full_text_only(schema: GraphQLSchema) -> None:
    policy = TrustedDocumentsOnly(TrustedDocuments({sha256_hex(INTERVIEWS): INTERVIEWS}))
    listed = persisted(sha256_hex(INTERVIEWS))

    assert run(policy.resolve(None, listed)) == INTERVIEWS
    assert run(policy.resolve(INTERVIEWS, listed)) == INTERVIEWS
    assert run(policy.resolve(INTERVIEWS, None)) == INTERVIEWS

    with pytest.raises(PersistedQueryNotFound) as info:
        run(policy.resolve(None, persisted(TYPENAME_HASH)))
    assert (info.value.code, info.value.http_status) == ("PERSISTED_QUERY_NOT_FOUND", 400)
    with pytest.raises(UntrustedDocument, match="only trusted documents may run") as refused:
        run(policy.resolve(TYPENAME, None))
    assert (refused.value.code, refused.value.http_status) == ("BAD_USER_INPUT", 400)
    with pytest.raises(UntrustedDocument):
        run(policy.resolve(TYPENAME, persisted(TYPENAME_HASH)))  # registration is off
    with pytest.raises(InvalidPersistedQuery, match="provided sha does not match query"):
        run(policy.resolve(TYPENAME, listed))


def test_document_policy_follows_the_settings() -> None:
    trusted = TrustedDocuments({TYPENAME_HASH: TYPENAME})

    apq = document_policy(PersistedQuerySettings(cache_size=7, cache_bytes=2048))
    assert isinstance(apq, AutomaticPersistedQueries)
    assert isinstance(apq.store, LRUDocumentStore)
    assert (apq.store.max_documents, apq.store.max_bytes) == (7, 2048)
    assert [extension().__class__ for extension in schema_extensions(apq)] == [
        RegisterPersistedQuery
    ]
    off = document_policy(PersistedQuerySettings(apq=False))
    assert isinstance(off, PersistedQueriesNotSupported)
    # Trusted documents win over APQ, which then registers nothing.
    trusted_only = document_policy(PersistedQuerySettings(trusted_documents=trusted))
    assert isinstance(trusted_only, TrustedDocumentsOnly)
    assert schema_extensions(off) == schema_extensions(trusted_only) == []


# --- manifests -------------------------------------------------------------------------------


def apollo_manifest(*operations: dict[str, Any]) -> str:
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": list(operations)}
    )


def operation(body: str, name: str = "Ids", id_: str | None = None) -> dict[str, Any]:
    return {"id": id_ or sha256_hex(body), "name": name, "type": "query", "body": body}


def test_apollo_manifest_is_read(schema: GraphQLSchema) -> None:
    documents = parse_manifest(
        apollo_manifest(operation(INTERVIEWS), operation(TYPENAME, "T")), schema
    )

    assert dict(documents.documents) == {
        sha256_hex(INTERVIEWS): INTERVIEWS,
        TYPENAME_HASH: TYPENAME,
    }


def test_plain_map_is_read_with_or_without_sha256_prefix(schema: GraphQLSchema) -> None:
    text = json.dumps({sha256_hex(INTERVIEWS): INTERVIEWS, f"sha256:{TYPENAME_HASH}": TYPENAME})

    assert len(parse_manifest(text, schema)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ("{}", "lists no documents"),
        (f'{{"{TYPENAME_HASH}": "{TYPENAME}", "{TYPENAME_HASH}": "{TYPENAME}"}}', "appears twice"),
        (json.dumps({"format": "relay", "operations": []}), "unknown manifest format 'relay'"),
        (
            json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}),
            "version 2; expected 1",
        ),
        (apollo_manifest(), "lists no documents"),
        (
            apollo_manifest(operation(INTERVIEWS), operation(TYPENAME, "Short", id_="abc")),
            r"operations\[1\] \(Short\): the hash must be a SHA-256",
        ),
        (
            apollo_manifest(operation(INTERVIEWS, "Wrong", id_=TYPENAME_HASH)),
            r"operations\[0\] \(Wrong\): the hash is not the document's SHA-256 \(the document "
            f"hashes to {sha256_hex(INTERVIEWS)}\\)",
        ),
        (
            apollo_manifest(operation("{ noSuchField }", "Bad")),
            r"operations\[0\] \(Bad\): the document is invalid: Cannot query field 'noSuchField'",
        ),
        (
            json.dumps({sha256_hex("{ broken"): "{ broken"}),
            f"entry '{sha256_hex('{ broken')}': the document is invalid: Syntax Error",
        ),
        (json.dumps({TYPENAME_HASH: 42}), "the document must be a non-empty string"),
    ],
)
def test_bad_manifests_are_refused_naming_the_entry(
    schema: GraphQLSchema, text: str, message: str
) -> None:
    with pytest.raises(TrustedDocumentsError, match=message) as info:
        parse_manifest(text, schema, "manifest.json")

    assert isinstance(info.value, SettingsError)
    assert str(info.value).startswith("GATEWAY_TRUSTED_DOCUMENTS (manifest.json)")


# --- settings --------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = Settings.from_env({}).persisted_queries

    assert settings == PersistedQuerySettings(apq=True, cache_size=1000, cache_bytes=10_485_760)
    assert settings.trusted_documents is None


def test_settings_read_every_variable(tmp_path: Path) -> None:
    manifest = tmp_path / "trusted.json"
    manifest.write_text(apollo_manifest(operation(INTERVIEWS)))

    settings = Settings.from_env(
        {
            "GATEWAY_APQ": "false",
            "GATEWAY_APQ_CACHE_SIZE": "50",
            "GATEWAY_APQ_CACHE_BYTES": "65536",
            "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
        }
    ).persisted_queries

    assert (settings.apq, settings.cache_size, settings.cache_bytes) == (False, 50, 65536)
    assert settings.trusted_documents is not None
    assert settings.trusted_documents.get(sha256_hex(INTERVIEWS)) == INTERVIEWS
    assert settings.trusted_documents.source == str(manifest)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_APQ": "maybe"}, "GATEWAY_APQ must be 'true' or 'false'"),
        ({"GATEWAY_APQ_CACHE_SIZE": "0"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_SIZE": "lots"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_BYTES": "10"}, "GATEWAY_APQ_CACHE_BYTES must be a whole number"),
        ({"GATEWAY_TRUSTED_DOCUMENTS": "/no/such/manifest.json"}, "no such file"),
    ],
)
def test_settings_refuse_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
