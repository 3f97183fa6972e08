"""Where APQ keeps registered documents: the `DocumentStore` protocol, an in-process LRU, and
Redis shared by every replica with the LRU in front (README "Persisted queries")."""

from __future__ import annotations

import logging
from typing import Protocol

from gateway.lru import BoundedLRU
from gateway.persisted.protocol import sha256_hex
from gateway.shared_redis import SharedRedis, redis_key

__all__ = ["APQ_REDIS_TTL", "DocumentStore", "LRUDocumentStore", "RedisDocumentStore"]

# The package's logger, as before the split: log lines keep their logger name.
logger = logging.getLogger("gateway.persisted")

APQ_REDIS_TTL = 86_400
"""Seconds a document registered in Redis is kept (refreshed by each registration); a client
whose hash was forgotten sends the document again, as the protocol provides."""


class DocumentStore(Protocol):
    """Where APQ keeps registered documents, by their SHA-256 hex hash.

    Async so that a store shared by several gateway processes (Redis, say) fits the same
    slot. A store may forget any document at any time: clients then send it again.
    """

    async def get(self, sha256_hash: str) -> str | None:
        """The document registered under `sha256_hash`, or None."""
        ...

    async def put(self, sha256_hash: str, document: str) -> None:
        """Remember `document` (already checked to hash to `sha256_hash`)."""
        ...


class LRUDocumentStore:
    """An in-process store bounded by both a number of documents and their total UTF-8 size;
    the least recently used documents go first. A document larger than the whole byte budget
    is not kept (it still runs)."""

    def __init__(self, max_documents: int = 1000, max_bytes: int = 10 * 1_048_576) -> None:
        if max_documents < 1 or max_bytes < 1:
            raise ValueError("an LRU document store needs room for at least one document")
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self._documents: BoundedLRU[str, str] = BoundedLRU(max_documents, max_bytes)

    def __len__(self) -> int:
        return len(self._documents)

    @property
    def size_bytes(self) -> int:
        """The UTF-8 size of every document held."""
        return self._documents.size_bytes

    async def get(self, sha256_hash: str) -> str | None:
        """The document registered under `sha256_hash` (now the most recently used), or None."""
        return self._documents.get(sha256_hash)

    async def put(self, sha256_hash: str, document: str) -> None:
        """Keep `document`, evicting the least recently used ones until both bounds hold."""
        self._documents.put(sha256_hash, document, len(document.encode("utf-8")))


class RedisDocumentStore:
    """Documents shared by every gateway process on one Redis, under
    `kombo-gateway:v1:apq:<sha256>` (the UTF-8 text, kept `APQ_REDIS_TTL` seconds), with this
    process's `LRUDocumentStore` in front: a document never changes under its hash, so a local
    copy is never stale and spares Redis a round trip per request.

    A document read from Redis is used only if it hashes to the hash asked (what another
    process wrote is checked, not trusted). A Redis outage reads as "not found" and drops
    registrations (`SharedRedis`): clients then send the document, which still runs.
    """

    def __init__(
        self, redis: SharedRedis, local: LRUDocumentStore, ttl: int = APQ_REDIS_TTL
    ) -> None:
        self.redis = redis
        self.local = local
        self.ttl = ttl

    async def get(self, sha256_hash: str) -> str | None:
        """The document from this process's LRU, else from Redis (then kept locally), or None."""
        document = await self.local.get(sha256_hash)
        if document is not None:
            return document
        stored = await self.redis.get(redis_key("apq", sha256_hash))
        if stored is None:
            return None
        try:
            document = stored.decode("utf-8")
        except UnicodeDecodeError:
            document = None
        if document is None or sha256_hex(document) != sha256_hash:
            logger.warning("ignoring an APQ document in Redis that does not match its hash")
            return None
        await self.local.put(sha256_hash, document)
        return document

    async def put(self, sha256_hash: str, document: str) -> None:
        """Keep `document` here and in Redis (unless larger than the local byte budget)."""
        await self.local.put(sha256_hash, document)
        encoded = document.encode("utf-8")
        if len(encoded) <= self.local.max_bytes:
            await self.redis.setex(redis_key("apq", sha256_hash), self.ttl, encoded)
