"""Redis for what several gateway processes share, and never a reason for a query to fail.

Two things live there when ``GATEWAY_REDIS_URL`` is set (README "Caching"): upstream pages of
the response cache (:mod:`gateway.kombo.cache`) and APQ documents (:mod:`gateway.persisted`).
Both are caches: losing them costs upstream calls or a client's re-registration, never a wrong
answer. So :class:`SharedRedis` turns every Redis failure (refused, timed out, out of memory,
wrong password) into "not cached": reads answer ``None``, writes are dropped, one warning says
Redis is unavailable, and Redis is left alone for a short rest before the next try, so that an
outage costs queries nothing but the cache (not a timeout each).

Keys are namespaced ``kombo-gateway:v1:<kind>:<digest>``; values are bytes the caller chose
(JSON, UTF-8 text), never pickles, so what is in Redis cannot run code in the gateway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["KEY_PREFIX", "SharedRedis", "describe_redis_url", "redis_key"]

log = logging.getLogger(__name__)

KEY_PREFIX = "kombo-gateway:v1:"
"""Every key the gateway writes starts so; bump ``v1`` when a value's format changes."""

DEFAULT_TIMEOUT = 0.25
"""Seconds one Redis command (connecting included) may take: a cache that answers later than
this is slower than no cache for most pages."""

DEFAULT_REST = 2.0
"""Seconds Redis is left alone after a failure before the next command tries it again."""

_REWARN_AFTER = 60.0  # seconds: an outage that goes on is mentioned again, not on every query


def redis_key(kind: str, digest: str) -> str:
    """``kombo-gateway:v1:<kind>:<digest>``; ``digest`` is a hash, never a raw identifier."""
    return f"{KEY_PREFIX}{kind}:{digest}"


def describe_redis_url(url: str) -> str:
    """Where ``url`` points, for log lines: scheme, host, port and database, never a password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    return f"{parts.scheme}://{host}:{port}{parts.path or '/0'}"


class SharedRedis:
    """One process's connection pool to Redis, degrading to "nothing cached" on any failure.

    Created without I/O (the pool connects on first use, inside the running event loop); the
    app's lifespan closes it with :meth:`aclose`. ``client`` replaces the pool (tests);
    ``clock`` measures the rest after a failure.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        rest: float = DEFAULT_REST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.where = describe_redis_url(url)
        self._url = url
        self._timeout = timeout
        self._rest = rest
        self._clock = clock
        self._client: Redis | None = None
        self._resting_until = 0.0
        self._outage_since: float | None = None
        self._warned_at = 0.0
        self.failures = 0
        """Commands that failed (or were skipped while resting) since start."""

    @property
    def available(self) -> bool:
        """False during an outage, until a command succeeds again."""
        return self._outage_since is None

    def _redis(self) -> Redis:
        if self._client is None:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self._client = Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                # No retries inside redis-py: a miss is cheaper than waiting for a sick Redis.
                retry=Retry(NoBackoff(), 0),
            )
        return self._client

    async def get(self, key: str) -> bytes | None:
        """The value under ``key``; ``None`` when absent, or when Redis cannot be asked."""
        if self._resting():
            return None
        try:
            value = await self._redis().get(key)
        except Exception as exc:
            # Any failure of a cache means "not cached" (redis-py raises its own errors, OSError
            # and TimeoutError; catching them by name would import redis-py for every gateway).
            self._failed("GET", exc)
            return None
        self._succeeded()
        return value if isinstance(value, bytes) else None

    async def setex(self, key: str, ttl: int, value: bytes) -> None:
        """Store ``value`` under ``key`` for ``ttl`` seconds (``SET key value EX ttl``, the
        form of ``SETEX`` that Redis recommends); dropped when Redis cannot take it."""
        if self._resting():
            return
        try:
            await self._redis().set(key, value, ex=ttl)
        except Exception as exc:
            self._failed("SETEX", exc)
            return
        self._succeeded()

    async def ping(self) -> bool:
        """Whether Redis answers now (at start, to warn early); never raises."""
        try:
            await self._redis().ping()
        except Exception as exc:
            self._failed("PING", exc)
            return False
        self._succeeded()
        return True

    async def aclose(self) -> None:
        """Close the pool (the app's lifespan, at shutdown)."""
        client, self._client = self._client, None
        if client is not None:
            try:
                await client.aclose()
            except Exception as exc:  # a pool that cannot close cleanly at shutdown is moot
                log.debug("closing the Redis pool at %s: %s", self.where, exc)

    def _resting(self) -> bool:
        if self._outage_since is None or self._clock() >= self._resting_until:
            return False
        self.failures += 1
        return True

    def _failed(self, command: str, exc: Exception) -> None:
        self.failures += 1
        now = self._clock()
        self._resting_until = now + self._rest
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if self._outage_since is None:
            self._outage_since = now
            self._warned_at = now
            log.warning(
                "Redis at %s is unavailable (%s failed: %s): going on without the shared cache "
                "(queries are answered from Kombo); trying again in %.0f s",
                self.where,
                command,
                reason,
                self._rest,
            )
        elif now - self._warned_at >= _REWARN_AFTER:
            self._warned_at = now
            log.warning(
                "Redis at %s still unavailable after %.0f s (%s failed: %s): no shared cache",
                self.where,
                now - self._outage_since,
                command,
                reason,
            )

    def _succeeded(self) -> None:
        if self._outage_since is not None:
            log.info(
                "Redis at %s answers again after %.0f s: the shared cache is back",
                self.where,
                self._clock() - self._outage_since,
            )
            self._outage_since = None
