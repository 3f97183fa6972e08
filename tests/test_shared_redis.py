"""The shared Redis connection against real and absent ``redis-server``s: an outage is no cache
with one warning, a rest before asking again, and log lines that never carry the password
(README "Caching").

The outage tests point a connection at a port where nothing listens, or stop a server of their
own, and look for the warning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.kombo import ListQuery
from gateway.kombo.catalog import CATALOG
from gateway.shared_redis import KEY_PREFIX, SharedRedis, describe_redis_url
from tests.support.redis_server import RedisServer, run_redis
from tests.support.sandbox_upstream import (
    ACME,
    CountingTransport,
    counting_sandbox,
    redis_backed_client,
)
from tests.support.servers import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def upstream() -> CountingTransport:
    return counting_sandbox()


@pytest.mark.anyio
async def test_an_unreachable_redis_is_no_cache_with_one_warning(
    upstream: CountingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    redis = SharedRedis(f"redis://127.0.0.1:{free_port()}/0", rest=0)
    client = redis_backed_client(upstream, redis)
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.shared_redis"):
            for _ in range(3):
                page = await client.list_records(
                    ACME, ListQuery.of(CATALOG["Interview"], {}), page_size=3
                )
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
    client = redis_backed_client(upstream, redis)
    try:
        await client.list_records(ACME, ListQuery.of(CATALOG["Interview"], {}), page_size=3)
        await client.list_records(ACME, ListQuery.of(CATALOG["Interview"], {}), page_size=3)
        assert len(upstream.requests) == 1
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="gateway.shared_redis"):
            page = await client.list_records(
                ACME, ListQuery.of(CATALOG["Interview"], {}), page_size=3
            )
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
