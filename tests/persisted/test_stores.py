"""`gateway.persisted.stores` without a server: the LRU store's bounds (the Redis store is
tested against a real redis-server in tests/cache/test_redis_stores.py)."""

from __future__ import annotations

import pytest

from gateway.persisted import LRUDocumentStore
from tests.persisted.documents import run


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
