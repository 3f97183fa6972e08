"""Upstream pages shared by every gateway process through Redis (README "Caching").

The Kombo client's :class:`~gateway.kombo.cache.PageCache` takes any
:class:`~gateway.kombo.cache.PageStore`; this one keeps pages in the Redis of
:mod:`gateway.shared_redis`, so that ``kombo/`` itself knows nothing of Redis or of the gateway.
"""

from __future__ import annotations

import logging

import orjson

from gateway.kombo.catalog import CATALOG
from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.parsing import parse_page
from gateway.kombo.records import Page
from gateway.shared_redis import SharedRedis, redis_key

__all__ = ["RedisPageStore"]

log = logging.getLogger(__name__)


class RedisPageStore:
    """Pages shared by every gateway process on one Redis: the endpoint's path, a newline and
    the upstream's JSON body under ``kombo-gateway:v1:records:<key>``, expiring by Redis
    ``SETEX``. A Redis outage reads as "not cached" (:class:`~gateway.shared_redis.SharedRedis`)."""

    def __init__(self, redis: SharedRedis) -> None:
        self.redis = redis

    async def get(self, key: str) -> Page | None:
        """The page under ``key``, parsed again from its JSON; ``None`` when absent, expired,
        unreadable, or when Redis cannot be asked."""
        stored = await self.redis.get(redis_key("records", key))
        if stored is None:
            return None
        path, _, body = stored.partition(b"\n")
        try:
            return parse_page(CATALOG.by_path(path.decode()), orjson.loads(body))
        except (
            orjson.JSONDecodeError,
            KomboMalformedResponse,
            KeyError,
            UnicodeDecodeError,
        ) as exc:
            # Not what this version writes (another version's format, or tampering): a miss.
            log.warning(
                "ignoring an unreadable cached page in Redis at %s: %s", self.redis.where, exc
            )
            return None

    async def put(self, key: str, page: Page, body: bytes, ttl: int) -> None:
        """``SETEX`` the path and JSON body for ``ttl`` seconds."""
        stored = page.path.encode() + b"\n" + body
        await self.redis.setex(redis_key("records", key), ttl, stored)
