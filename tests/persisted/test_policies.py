"""`gateway.persisted.policies` without a server: the three document policies and APQ's
registration once the schema has validated a document."""

from __future__ import annotations

import time
from typing import Any

import pytest
from graphql import GraphQLSchema

from gateway.config import PersistedQuerySettings
from gateway.errors import (
    InvalidPersistedQuery,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
    UntrustedDocument,
)
from gateway.execution import executable_schema
from gateway.persisted import (
    AutomaticPersistedQueries,
    LRUDocumentStore,
    PersistedQueriesNotSupported,
    RegisterPersistedQuery,
    TrustedDocuments,
    TrustedDocumentsOnly,
    document_policy,
    schema_extensions,
    sha256_hex,
)
from gateway.schema import QueryLimits
from tests.support.persisted_documents import INTERVIEWS, TYPENAME, TYPENAME_HASH, persisted, run


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
    assert error.headers == {"Cache-Control": "no-store"}


def apq_schema(policy: AutomaticPersistedQueries, limits: QueryLimits | None = None) -> Any:
    """The gateway's schema with APQ's registration, as the app builds it."""
    return executable_schema(limits, extensions=schema_extensions(policy))


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
    trusted_only = document_policy(PersistedQuerySettings(), trusted_documents=trusted)
    assert isinstance(trusted_only, TrustedDocumentsOnly)
    assert schema_extensions(off) == schema_extensions(trusted_only) == []
