"""The Redis stores against a real ``redis-server``: what they write, sharing, expiry, outages.

Two clients over one Redis stand for two gateway processes; the outage tests point a store at a
port where nothing listens, or stop a server of their own, and look for the warning.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from gateway.kombo import InterviewQuery, KomboClient, KomboConfig, PageCacheConfig
from gateway.kombo.cache import PageCache
from gateway.persisted import LRUDocumentStore, RedisDocumentStore, sha256_hex
from gateway.redis_pages import RedisPageStore
from gateway.shared_redis import KEY_PREFIX, SharedRedis, describe_redis_url
from tests.cache.test_page_cache import ACME, API_KEY, BASE_URL, GLOBEX, CountingTransport
from tests.support.redis_server import RedisServer, run_redis
from tests.support.servers import free_port

PAGE_KEY = re.compile(rf"{re.escape(KEY_PREFIX)}page:[0-9a-f]{{64}}")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gateway_client(upstream: CountingTransport, redis: SharedRedis, ttl: int = 30) -> KomboClient:
    """The Kombo client as a gateway with GATEWAY_REDIS_URL builds it."""
    config = KomboConfig(
        api_key=API_KEY, base_url=BASE_URL, transport=upstream, cache=PageCacheConfig(ttl)
    )
    return KomboClient.open(config, page_store=RedisPageStore(redis))


def page_keys(server: RedisServer) -> list[str]:
    return sorted(k.decode() for k in server.client().keys("*"))


@pytest.fixture
def upstream() -> CountingTransport:
    from gateway.sandbox.app import create_sandbox_app

    return CountingTransport(httpx.ASGITransport(app=create_sandbox_app(api_key=API_KEY)))


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_two_processes_share_pages_through_redis(
    empty_redis: RedisServer, upstream: CountingTransport
) -> None:
    first_redis, second_redis = SharedRedis(empty_redis.url), SharedRedis(empty_redis.url)
    first, second = gateway_client(upstream, first_redis), gateway_client(upstream, second_redis)
    try:
        page = await first.list_interviews(ACME, InterviewQuery(), page_size=5)
        assert len(upstream.requests) == 1
        assert await second.list_interviews(ACME, InterviewQuery(), page_size=5) == page
        assert len(upstream.requests) == 1
        await second.list_interviews(GLOBEX, InterviewQuery(), page_size=5)
        assert len(upstream.requests) == 2  # another integration: never the same entry
    finally:
        for client in (first, second):
            await client.aclose()
        for redis in (first_redis, second_redis):
            await redis.aclose()


@pytest.mark.anyio
async def test_redis_holds_the_upstream_json_under_a_namespaced_hashed_key_with_its_ttl(
    empty_redis: RedisServer, upstream: CountingTransport
) -> None:
    redis = SharedRedis(empty_redis.url)
    client = gateway_client(upstream, redis, ttl=30)
    try:
        page = await client.list_interviews(ACME, InterviewQuery(), page_size=3)
    finally:
        await client.aclose()
        await redis.aclose()
    (key,) = page_keys(empty_redis)
    assert PAGE_KEY.fullmatch(key), key
    assert ACME not in key and API_KEY not in key
    plain = empty_redis.client()
    assert 0 < plain.ttl(key) <= 30
    value = plain.get(key)
    assert isinstance(value, bytes)
    body = orjson.loads(value)  # JSON, as Kombo sent it: never a pickle
    assert body["status"] == "success"
    assert [r["id"] for r in body["data"]["results"]] == [i.id for i in page.results]
    assert API_KEY.encode() not in value


@pytest.mark.anyio
async def test_a_page_expired_in_redis_is_fetched_again(
    empty_redis: RedisServer, upstream: CountingTransport
) -> None:
    redis = SharedRedis(empty_redis.url)
    client = gateway_client(upstream, redis, ttl=1)
    try:
        await client.list_interviews(ACME, InterviewQuery(), page_size=4)
        await client.list_interviews(ACME, InterviewQuery(), page_size=4)
        assert len(upstream.requests) == 1
        (key,) = page_keys(empty_redis)
        deadline = time.monotonic() + 1.5  # the TTL under test, and nothing more
        while empty_redis.client().exists(key) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not empty_redis.client().exists(key), "Redis kept the page past its 1 s TTL"
        await client.list_interviews(ACME, InterviewQuery(), page_size=4)
        assert len(upstream.requests) == 2
    finally:
        await client.aclose()
        await redis.aclose()


@pytest.mark.anyio
async def test_an_unreadable_value_is_a_miss(
    empty_redis: RedisServer, upstream: CountingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    redis = SharedRedis(empty_redis.url)
    client = gateway_client(upstream, redis)
    try:
        await client.list_interviews(ACME, InterviewQuery(), page_size=2)
        (key,) = page_keys(empty_redis)
        empty_redis.client().set(key, b"\x80\x04not json")
        with caplog.at_level(logging.WARNING, logger="gateway.redis_pages"):
            await client.list_interviews(ACME, InterviewQuery(), page_size=2)
        assert len(upstream.requests) == 2
        assert "unreadable cached page" in caplog.text
    finally:
        await client.aclose()
        await redis.aclose()


# --- outages ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unreachable_redis_is_no_cache_with_one_warning(
    upstream: CountingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    redis = SharedRedis(f"redis://127.0.0.1:{free_port()}/0", rest=0)
    client = gateway_client(upstream, redis)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.shared_redis"):
            for _ in range(3):
                page = await client.list_interviews(ACME, InterviewQuery(), page_size=3)
                assert len(page.results) == 3
    finally:
        await client.aclose()
        await redis.aclose()
    assert len(upstream.requests) == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, caplog.text
    assert "is unavailable" in warnings[0].getMessage()
    assert not redis.available and redis.failures >= 6


@pytest.fixture
def own_redis(tmp_path: Path, server_logs: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, free to be stopped."""
    with run_redis(tmp_path / "redis", server_logs / "redis-outage-unit.log") as server:
        yield server


@pytest.mark.anyio
async def test_after_an_outage_redis_rests_then_is_used_again(
    tmp_path: Path, server_logs: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    port = free_port()
    redis = SharedRedis(f"redis://127.0.0.1:{port}/0", rest=2.0, clock=clock)
    try:
        caplog.set_level(logging.INFO, logger="gateway.shared_redis")
        assert await redis.get(KEY_PREFIX + "test:x") is None
        assert not redis.available
        log = server_logs / "redis-recovery-unit.log"
        with run_redis(tmp_path / "redis", log, port=port) as server:
            server.client().set(KEY_PREFIX + "test:x", b"1")
            # Resting: not asked, though it would answer now.
            assert await redis.get(KEY_PREFIX + "test:x") is None
            clock.now += 2.0
            assert await redis.get(KEY_PREFIX + "test:x") == b"1"
            assert redis.available
    finally:
        await redis.aclose()
    assert "answers again" in caplog.text


@pytest.mark.anyio
async def test_redis_stopped_midway_degrades_to_no_cache(
    own_redis: RedisServer, upstream: CountingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    redis = SharedRedis(own_redis.url)
    client = gateway_client(upstream, redis)
    try:
        await client.list_interviews(ACME, InterviewQuery(), page_size=3)
        await client.list_interviews(ACME, InterviewQuery(), page_size=3)
        assert len(upstream.requests) == 1
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="gateway.shared_redis"):
            page = await client.list_interviews(ACME, InterviewQuery(), page_size=3)
        assert len(page.results) == 3
        assert len(upstream.requests) == 2
        assert "is unavailable" in caplog.text
    finally:
        await client.aclose()
        await redis.aclose()


def test_log_lines_name_redis_without_its_password() -> None:
    described = describe_redis_url("redis://user:s3cret@cache.internal:6380/2")
    assert described == "redis://cache.internal:6380/2"
    assert describe_redis_url("rediss://:pw@cache.internal") == "rediss://cache.internal:6379/0"
    assert describe_redis_url("unix:///run/redis.sock") == "unix:///run/redis.sock"


# --- APQ documents ---------------------------------------------------------------------------

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
    assert page_keys(empty_redis) == [key]
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


def test_page_cache_rejects_a_zero_ttl() -> None:
    with pytest.raises(ValueError):
        PageCache(RedisPageStore(SharedRedis("redis://127.0.0.1:1/0")), 0, b"k")
