"""The document caches (parse, validation, fast-path plans) keep small documents and never large
ones, and the parse cache stays within its memory budget whatever the documents look like."""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

import pytest
import strawberry.schema.schema as strawberry_schema

from gateway.execution import executable_schema
from gateway.execution.document_cache import (
    AST_BYTES_PER_TOKEN,
    DOCUMENTS,
    MAX_CACHED_DOCUMENT_BYTES,
    DocumentCache,
    cacheable,
)
from gateway.execution.fastpath import FastPathExecutor
from gateway.schema import GatewaySchema
from tests.support.fake_kombo import UPSTREAM, execute

SMALL = "query Small { interviews(first: 2) { nodes { id title } } }"
EXPECTED = {
    "interviews": {
        "nodes": [
            {"id": "gid://kombo/Interview/iv-0", "title": "Interview №0"},
            {"id": "gid://kombo/Interview/iv-1", "title": "Interview №1"},
        ]
    }
}


def large(index: int, size: int = 2 * MAX_CACHED_DOCUMENT_BYTES) -> str:
    """``SMALL`` behind a comment that makes it ``size`` bytes: one token, whatever the size."""
    head = f"# {index} "
    return head + "x" * (size - len(head) - len(SMALL) - 1) + "\n" + SMALL


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    DOCUMENTS.clear()
    yield
    DOCUMENTS.clear()


@pytest.fixture
def schema() -> GatewaySchema:
    """A fresh schema: its own fast-path plan cache."""
    return executable_schema(fast_path=True)


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The documents Strawberry validated itself (not answered from a cache)."""
    validated: list[str] = []
    original = strawberry_schema.validate_document

    def counting(schema: Any, document: Any, rules: Any) -> Any:
        assert document.loc is not None
        validated.append(document.loc.source.body)
        return original(schema, document, rules)

    monkeypatch.setattr(strawberry_schema, "validate_document", counting)
    return validated


def run(schema: GatewaySchema, document: str) -> Any:
    response = json.loads(execute(schema, document, {}, replace(UPSTREAM, calls=[])))
    assert response["errors"] == [], response
    return response["data"]


def plan_cache(schema: GatewaySchema) -> dict[Any, Any]:
    executor = schema.execution_context_class
    assert isinstance(executor, type) and issubclass(executor, FastPathExecutor)
    return cast(type[FastPathExecutor], executor).cache.documents


def test_cacheable_is_at_most_the_cap_in_utf8_bytes() -> None:
    assert cacheable("x" * MAX_CACHED_DOCUMENT_BYTES)
    assert not cacheable("x" * (MAX_CACHED_DOCUMENT_BYTES + 1))
    assert cacheable("é" * (MAX_CACHED_DOCUMENT_BYTES // 2))
    assert not cacheable("é" * (MAX_CACHED_DOCUMENT_BYTES // 2 + 1))
    assert cacheable("\ud800" * (MAX_CACHED_DOCUMENT_BYTES // 3))  # JSON can send lone surrogates
    assert not cacheable("\ud800" * (MAX_CACHED_DOCUMENT_BYTES // 3 + 1))


def test_small_documents_are_parsed_validated_and_planned_once(
    schema: GatewaySchema, validations: list[str]
) -> None:
    for _ in range(3):
        assert run(schema, SMALL) == EXPECTED

    assert SMALL in DOCUMENTS
    assert len(DOCUMENTS) == 1
    assert validations == [SMALL]
    assert [key[0] for key in plan_cache(schema)] == [SMALL]


def test_documents_over_the_cap_run_but_no_cache_keeps_them(
    schema: GatewaySchema, validations: list[str]
) -> None:
    documents = [large(index) for index in range(20)]
    for document in documents * 2:
        assert run(schema, document) == EXPECTED  # the fast path still completes them

    assert len(DOCUMENTS) == 0
    assert DOCUMENTS.size_bytes == 0
    assert validations == documents * 2  # validated every time
    assert plan_cache(schema) == {}
    # Small documents are still cached next to them.
    run(schema, SMALL)
    run(schema, SMALL)
    assert len(DOCUMENTS) == 1
    assert validations[-1] == SMALL and validations.count(SMALL) == 1
    assert len(plan_cache(schema)) == 1


def test_a_document_just_at_the_cap_is_cached(schema: GatewaySchema) -> None:
    at_cap = large(0, MAX_CACHED_DOCUMENT_BYTES)
    assert len(at_cap.encode()) == MAX_CACHED_DOCUMENT_BYTES
    run(schema, at_cap)
    assert at_cap in DOCUMENTS
    assert len(plan_cache(schema)) == 1


def test_distinct_large_documents_do_not_grow_memory(schema: GatewaySchema) -> None:
    # 30 distinct 128 KiB documents: caches keeping each one (its text and its comment token's
    # value) would hold ~4 MiB; ~0.2 MiB is what the first requests of a schema allocate for good.
    documents = [large(index, 128 * 1024) for index in range(30)]
    run(schema, documents[0])  # warm-up: imports, the small plans
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for document in documents[1:]:
            run(schema, document)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1_048_576, f"grew {grown} bytes"


def test_the_parse_cache_stays_within_its_memory_budget_for_dense_documents() -> None:
    # 16 KiB of `a a a ...` is ~8,000 tokens and a ~4.5 MiB tree: under the size cap, so the
    # memory budget is what bounds such documents.
    cache = DocumentCache(max_documents=512, max_bytes=12 * 1_048_576)
    dense = [f"{{ b{index} " + "a " * 7_000 + "}" for index in range(4)]
    for document in dense:
        assert cacheable(document)
        assert cache.parse(document, {}) is not None

    assert cache.size_bytes <= cache.max_bytes
    assert len(cache) == 2  # the two most recent
    assert dense[0] not in cache and dense[3] in cache
    assert cache.size_bytes >= 2 * 7_000 * AST_BYTES_PER_TOKEN


def test_the_parse_cache_keeps_at_most_max_documents_least_recently_used_first() -> None:
    cache = DocumentCache(max_documents=2)
    first = cache.parse("{ a }", {})
    cache.parse("{ b }", {})
    assert cache.parse("{ a }", {}) is first  # a is now more recent than b
    cache.parse("{ c }", {})

    assert ("{ a }" in cache, "{ b }" in cache, "{ c }" in cache) == (True, False, True)
    assert cache.parse("{ a }", {}) is first
    assert cache.parse("{ a }", {"max_tokens": 5}) is not first  # keyed by the options too


def test_a_document_too_large_for_the_whole_budget_is_parsed_but_not_kept() -> None:
    cache = DocumentCache(max_bytes=1_000)
    assert cache.parse("{ " + "a " * 100 + "}", {}) is not None
    assert (len(cache), cache.size_bytes) == (0, 0)
