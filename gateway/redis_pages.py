"""Upstream pages shared by every gateway process through Redis (README "Caching").

The Kombo client's :class:`~gateway.kombo.cache.PageCache` takes any
:class:`~gateway.kombo.cache.PageStore`; this one keeps pages in the Redis of
:mod:`gateway.shared_redis`, so that ``kombo/`` itself knows nothing of Redis or of the gateway.
"""

from __future__ import annotations

import logging

import orjson

from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.models import InterviewPage
from gateway.kombo.parsing import parse_interview_page
from gateway.shared_redis import SharedRedis, redis_key

__all__ = ["RedisPageStore"]

log = logging.getLogger(__name__)


class RedisPageStore:
    """Pages shared by every gateway process on one Redis: the upstream's JSON body under
    ``kombo-gateway:v1:page:<key>``, expiring by Redis ``SETEX``. A Redis outage reads as
    "not cached" (:class:`~gateway.shared_redis.SharedRedis`)."""

    def __init__(self, redis: SharedRedis) -> None:
        self.redis = redis

    async def get(self, key: str) -> InterviewPage | None:
        """The page under ``key``, parsed again from its JSON; ``None`` when absent, expired,
        unreadable, or when Redis cannot be asked."""
        body = await self.redis.get(redis_key("page", key))
        if body is None:
            return None
        try:
            return parse_interview_page(orjson.loads(body))
        except (orjson.JSONDecodeError, KomboMalformedResponse) as exc:
            # Not what this version writes (another version's format, or tampering): a miss.
            log.warning(
                "ignoring an unreadable cached page in Redis at %s: %s", self.redis.where, exc
            )
            return None

    async def put(self, key: str, page: InterviewPage, body: bytes, ttl: int) -> None:
        """``SETEX`` the JSON body for ``ttl`` seconds."""
        await self.redis.setex(redis_key("page", key), ttl, body)
