"""`gateway.persisted.stores`: the LRU store's bounds without a server; the Redis store against a
real ``redis-server``, two stores over one Redis standing for two gateway processes."""

from __future__ import annotations

import pytest

from gateway.persisted import LRUDocumentStore, RedisDocumentStore, sha256_hex
from gateway.shared_redis import KEY_PREFIX, SharedRedis
from tests.support.persisted_documents import run
from tests.support.redis_server import RedisServer
from tests.support.servers import free_port


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


DOCUMENT = "query Shared { interviews(first: 2) { nodes { id } } }"


@pytest.mark.anyio
async def test_a_document_registered_by_one_process_is_found_by_another(
    empty_redis: RedisServer,
) -> None:
    first_redis, second_redis = SharedRedis(empty_redis.url), SharedRedis(empty_redis.url)
    first = RedisDocumentStore(first_redis, LRUDocumentStore())
    second = RedisDocumentStore(second_redis, LRUDocumentStore())
    digest = sha256_hex(DOCUMENT)
    try:
        assert await second.get(digest) is None
        await first.put(digest, DOCUMENT)
        assert await second.get(digest) == DOCUMENT
        assert await second.local.get(digest) == DOCUMENT  # kept locally from then on
    finally:
        await first_redis.aclose()
        await second_redis.aclose()
    key = f"{KEY_PREFIX}apq:{digest}"
    assert sorted(k.decode() for k in empty_redis.client().keys("*")) == [key]
    assert empty_redis.client().get(key) == DOCUMENT.encode()
    assert 0 < empty_redis.client().ttl(key) <= 86_400


@pytest.mark.anyio
async def test_a_document_that_does_not_match_its_hash_is_not_served(
    empty_redis: RedisServer,
) -> None:
    digest = sha256_hex(DOCUMENT)
    empty_redis.client().set(f"{KEY_PREFIX}apq:{digest}", b"query Evil { __typename }")
    redis = SharedRedis(empty_redis.url)
    try:
        assert await RedisDocumentStore(redis, LRUDocumentStore()).get(digest) is None
    finally:
        await redis.aclose()


@pytest.mark.anyio
async def test_apq_without_redis_still_registers_locally() -> None:
    redis = SharedRedis(f"redis://127.0.0.1:{free_port()}/0")
    store = RedisDocumentStore(redis, LRUDocumentStore())
    digest = sha256_hex(DOCUMENT)
    try:
        await store.put(digest, DOCUMENT)
        assert await store.get(digest) == DOCUMENT
    finally:
        await redis.aclose()
