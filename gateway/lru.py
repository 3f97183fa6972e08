"""One least-recently-used map, bounded by a number of entries and by their estimated bytes.

The gateway keeps three such caches in process: parsed and validated documents (README
"Layout": ``document_cache.py``), APQ documents (README "Persisted queries") and the response
cache's pages (README "Caching"). Each estimates what an entry costs in its own way and hands
the estimate in with the entry; the eviction rule is this one. An entry may also expire (the
pages do): an expired entry is never returned, and expired entries are dropped first when the
bounds are exceeded.

A standalone module (the standard library only): every layer may use it, ``kombo/`` included.
It takes no lock; a cache shared by threads holds its own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, NamedTuple, TypeVar

__all__ = ["BoundedLRU"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Entry(NamedTuple, Generic[V]):
    value: V
    size: int
    expires: float | None


class BoundedLRU(Generic[K, V]):
    """Values by key, the least recently used dropped first whenever there are more than
    ``max_entries`` or their sizes add up to more than ``max_bytes``. A value larger than
    ``max_bytes`` on its own is not kept. ``clock`` tells expiry (tests replace it)."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._bytes = 0
        self._expiring = False  # whether any entry was given a lifetime

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first."""
        return iter(self._entries)

    @property
    def size_bytes(self) -> int:
        """The sizes of the entries held, added up."""
        return self._bytes

    def get(self, key: K) -> V | None:
        """The value under ``key``, now the most recently used; None when absent or expired
        (an expired entry is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires is not None and self._clock() >= entry.expires:
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    def peek(self, key: K) -> V | None:
        """The value under ``key``, leaving the order of use as it is (expiry not checked)."""
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    def put(self, key: K, value: V, size: int, *, ttl: float | None = None) -> bool:
        """Keep ``value`` (costing ``size`` bytes, for ``ttl`` seconds when given) as the most
        recently used, replacing what ``key`` held; then drop expired, then least recently
        used, entries until both bounds hold. False, and nothing kept, when ``size`` alone is
        over ``max_bytes``."""
        if size > self.max_bytes:
            return False
        if key in self._entries:
            self._drop(key)
        now: float | None = None
        expires: float | None = None
        if ttl is not None:
            now = self._clock()
            expires = now + ttl
            self._expiring = True
        self._entries[key] = _Entry(value, size, expires)
        self._bytes += size
        if self._over_bounds() and self._expiring:
            now = self._clock() if now is None else now
            expired = [
                k for k, e in self._entries.items() if e.expires is not None and now >= e.expires
            ]
            for stale in expired:
                self._drop(stale)
        while self._over_bounds():
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= evicted.size
        return True

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self._bytes = 0

    def _over_bounds(self) -> bool:
        return len(self._entries) > self.max_entries or self._bytes > self.max_bytes

    def _drop(self, key: K) -> None:
        self._bytes -= self._entries.pop(key).size
