"""A short-TTL cache of upstream pages, consulted by :meth:`KomboClient.list_records`.

Off unless a TTL is configured (``GATEWAY_CACHE_TTL``; README "Caching"). What is cached is one
successful answer of a list endpoint (``GET /ats/jobs``…), under a key made of everything that
chose it: the upstream (base URL and API key), the integration, and every query parameter sent
(filters, ``page_size``, ``cursor``; an id lookup's exact ``ids``). Two integrations never share
an entry, whatever they ask. Errors, malformed answers and cancelled calls are never stored.

The key is an HMAC-SHA256 of those values under a secret derived from the base URL and the API
key: it names no integration in clear, and a process without the API key can neither read an
entry's key back to its integration nor compute the key of a page it wants to plant.

Two stores hold the entries, behind :class:`PageStore`:

- :class:`MemoryPageStore` (the default): this process's LRU, bounded by entries and by an
  estimate of the memory held, keeping the parsed :class:`Page` (immutable), so that a
  hit costs nothing but the lookup;
- :class:`RedisPageStore` (``GATEWAY_REDIS_URL``): shared by every replica, holding the
  upstream's JSON body under ``kombo-gateway:v1:page:<key>`` with ``SETEX``; a hit parses it
  again (about 3.5 ms for 100 interviews, against an upstream round trip).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from gateway.kombo.records import Page
from gateway.lru import BoundedLRU

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "PARSED_SIZE_FACTOR",
    "MemoryPageStore",
    "PageCache",
    "PageCacheConfig",
    "PageStore",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 1000
DEFAULT_MAX_BYTES = 32 * 1_048_576

PARSED_SIZE_FACTOR = 3
"""A parsed page holds about this many times its JSON size in memory (measured 2.6x on the
sandbox's pages of 20, 100 and 250 interviews): the in-process store charges an entry so much."""


class PageCacheSettings(Protocol):
    """What the response cache is configured with: ``ttl`` seconds (at least 1), and the
    in-process store's bounds. :class:`PageCacheConfig` is one; the gateway's
    ``ResponseCacheSettings`` another."""

    @property
    def ttl(self) -> int: ...

    @property
    def max_entries(self) -> int: ...

    @property
    def max_bytes(self) -> int: ...


@dataclass(frozen=True)
class PageCacheConfig:
    """The response cache: ``ttl`` seconds (at least 1), and the in-process store's bounds
    (entries, and bytes of memory as estimated by :data:`PARSED_SIZE_FACTOR`)."""

    ttl: int
    max_entries: int = DEFAULT_MAX_ENTRIES
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if self.ttl < 1 or self.max_entries < 1 or self.max_bytes < 1:
            raise ValueError("a page cache needs a TTL of at least 1 s and room for an entry")


class PageStore(Protocol):
    """Where cached pages live, by cache key. A store may forget an entry at any time."""

    async def get(self, key: str) -> Page | None:
        """The page stored under ``key`` and not yet expired, or ``None``."""
        ...

    async def put(self, key: str, page: Page, body: bytes, ttl: int) -> None:
        """Keep ``page`` (whose upstream JSON body is ``body``) for ``ttl`` seconds."""
        ...


class MemoryPageStore:
    """This process's pages: least recently used first out, when there are more than
    ``max_entries`` or they hold more than ``max_bytes`` (estimated). A page larger than the
    whole budget is not kept. ``clock`` tells expiry (tests replace it)."""

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("an in-process page store needs room for at least one page")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._pages: BoundedLRU[str, Page] = BoundedLRU(max_entries, max_bytes, clock=clock)

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def size_bytes(self) -> int:
        """The estimated memory the pages held use."""
        return self._pages.size_bytes

    async def get(self, key: str) -> Page | None:
        """The page under ``key`` (now the most recently used), unless it has expired."""
        return self._pages.get(key)

    async def put(self, key: str, page: Page, body: bytes, ttl: int) -> None:
        """Keep ``page`` for ``ttl`` seconds, evicting expired, then least recently used, pages
        until both bounds hold."""
        self._pages.put(key, page, len(body) * PARSED_SIZE_FACTOR, ttl=ttl)


class PageCache:
    """The cache :class:`~gateway.kombo.client.KomboClient` consults before coalescing and
    retries. Counts its ``hits`` and ``misses`` (for metrics)."""

    def __init__(self, store: PageStore, ttl: int, secret: bytes) -> None:
        if ttl < 1:
            raise ValueError("a page cache needs a TTL of at least 1 s")
        self.store = store
        self.ttl = ttl
        self._secret = secret
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_upstream(cls, store: PageStore, ttl: int, *, base_url: str, api_key: str) -> PageCache:
        """A cache whose keys belong to one upstream account: derived from its base URL and API
        key, so that gateways of different Kombo accounts (or regions) sharing a Redis never
        read each other's pages."""
        seed = f"{base_url.rstrip('/')}\0{api_key}".encode()
        secret = hmac.new(seed, b"kombo-gateway page cache v1", hashlib.sha256).digest()
        return cls(store, ttl, secret)

    def key(self, path: str, integration_id: str, params: Mapping[str, str]) -> str:
        """The key of one upstream request: equal exactly when the path, the integration and
        every parameter are equal (parameter order aside). 64 hex digits."""
        # JSON, not "k=v&...": values may hold '&', '=' and ',' and must not collide.
        message = json.dumps([path, integration_id, sorted(params.items())], separators=(",", ":"))
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    async def get(self, key: str) -> Page | None:
        """The cached page, or ``None`` (a miss)."""
        page = await self.store.get(key)
        if page is None:
            self.misses += 1
        else:
            self.hits += 1
        return page

    async def put(self, key: str, page: Page, body: bytes) -> None:
        """Keep a successful answer for the TTL."""
        await self.store.put(key, page, body, self.ttl)
