"""The Redis page store against a real ``redis-server``: what it writes, sharing between
processes, expiry, unreadable values (README "Caching").

Two clients over one Redis stand for two gateway processes.
"""

from __future__ import annotations

import logging
import re
import time

import orjson
import pytest

from gateway.kombo import ListQuery
from gateway.kombo.cache import PageCache
from gateway.kombo.catalog import CATALOG
from gateway.redis_pages import RedisPageStore
from gateway.shared_redis import KEY_PREFIX, SharedRedis
from tests.support.redis_server import RedisServer
from tests.support.sandbox_upstream import (
    ACME,
    API_KEY,
    GLOBEX,
    CountingTransport,
    counting_sandbox,
    redis_backed_client,
)

PAGE_KEY = re.compile(rf"{re.escape(KEY_PREFIX)}records:[0-9a-f]{{64}}")
INTERVIEWS = ListQuery.of(CATALOG["Interview"], {})


def page_keys(server: RedisServer) -> list[str]:
    return sorted(k.decode() for k in server.client().keys("*"))


@pytest.fixture
def upstream() -> CountingTransport:
    return counting_sandbox()


@pytest.mark.anyio
async def test_two_processes_share_pages_through_redis(
    empty_redis: RedisServer, upstream: CountingTransport
) -> None:
    first_redis, second_redis = SharedRedis(empty_redis.url), SharedRedis(empty_redis.url)
    first = redis_backed_client(upstream, first_redis)
    second = redis_backed_client(upstream, second_redis)
    try:
        page = await first.list_records(ACME, INTERVIEWS, page_size=5)
        assert len(upstream.requests) == 1
        assert await second.list_records(ACME, INTERVIEWS, page_size=5) == page
        assert len(upstream.requests) == 1
        await second.list_records(GLOBEX, INTERVIEWS, page_size=5)
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
    client = redis_backed_client(upstream, redis, ttl=30)
    try:
        page = await client.list_records(ACME, INTERVIEWS, page_size=3)
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
    # The endpoint's path, then the JSON as Kombo sent it: never a pickle.
    path, newline, json_body = value.partition(b"\n")
    assert (path, newline) == (b"/ats/interviews", b"\n")
    body = orjson.loads(json_body)
    assert body["status"] == "success"
    assert [r["id"] for r in body["data"]["results"]] == [i["id"] for i in page.results]
    assert API_KEY.encode() not in value


@pytest.mark.anyio
async def test_a_page_expired_in_redis_is_fetched_again(
    empty_redis: RedisServer, upstream: CountingTransport
) -> None:
    redis = SharedRedis(empty_redis.url)
    client = redis_backed_client(upstream, redis, ttl=1)
    try:
        await client.list_records(ACME, INTERVIEWS, page_size=4)
        await client.list_records(ACME, INTERVIEWS, page_size=4)
        assert len(upstream.requests) == 1
        (key,) = page_keys(empty_redis)
        deadline = time.monotonic() + 1.5  # the TTL under test, and nothing more
        while empty_redis.client().exists(key) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not empty_redis.client().exists(key), "Redis kept the page past its 1 s TTL"
        await client.list_records(ACME, INTERVIEWS, page_size=4)
        assert len(upstream.requests) == 2
    finally:
        await client.aclose()
        await redis.aclose()


EMPTY_BODY = b'{"status":"success","data":{"next":null,"results":[]}}'


@pytest.mark.anyio
@pytest.mark.parametrize(
    "stored",
    [
        b"\x80\x04not json",
        b"/ats/interviews\n\x80\x04not json",
        b"/ats/nowhere\n" + EMPTY_BODY,  # no such endpoint
        EMPTY_BODY,  # what the interviews-only version wrote: no path
        b"/ats/\xff\n" + EMPTY_BODY,
    ],
    ids=["not-json", "path-then-not-json", "unknown-path", "no-path", "path-not-utf8"],
)
async def test_an_unreadable_value_is_a_miss(
    empty_redis: RedisServer,
    upstream: CountingTransport,
    caplog: pytest.LogCaptureFixture,
    stored: bytes,
) -> None:
    redis = SharedRedis(empty_redis.url)
    client = redis_backed_client(upstream, redis)
    try:
        await client.list_records(ACME, INTERVIEWS, page_size=2)
        (key,) = page_keys(empty_redis)
        empty_redis.client().set(key, stored)
        with caplog.at_level(logging.WARNING, logger="gateway.redis_pages"):
            await client.list_records(ACME, INTERVIEWS, page_size=2)
        assert len(upstream.requests) == 2
        assert "unreadable cached page" in caplog.text
    finally:
        await client.aclose()
        await redis.aclose()


def test_page_cache_rejects_a_zero_ttl() -> None:
    with pytest.raises(ValueError):
        PageCache(RedisPageStore(SharedRedis("redis://127.0.0.1:1/0")), 0, b"k")
