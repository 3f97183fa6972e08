"""Fixtures for the cache tests: the session's Redis (``tests.support.redis_server``), emptied
per test where asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.redis_server import RedisServer, run_redis


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory, server_logs: Path
) -> Iterator[RedisServer]:
    """The Redis the cache tests share (each test that needs it empty flushes it)."""
    with run_redis(tmp_path_factory.mktemp("redis"), server_logs / "redis.log") as server:
        yield server


@pytest.fixture
def empty_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushdb()
    return redis_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
