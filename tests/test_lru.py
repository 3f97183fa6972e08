"""The one LRU: bounded by entries and by bytes, least recently used out first, expired first."""

from __future__ import annotations

from gateway.lru import BoundedLRU


def test_the_least_recently_used_entry_goes_first_past_the_entry_bound() -> None:
    lru: BoundedLRU[str, int] = BoundedLRU(max_entries=2, max_bytes=100)
    lru.put("a", 1, 1)
    lru.put("b", 2, 1)
    assert lru.get("a") == 1  # "b" is now the least recently used
    lru.put("c", 3, 1)
    assert list(lru) == ["a", "c"]
    assert lru.size_bytes == 2


def test_the_byte_bound_evicts_until_it_holds_and_an_oversized_value_is_not_kept() -> None:
    lru: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=10)
    lru.put("a", "a", 4)
    lru.put("b", "b", 4)
    lru.put("c", "c", 4)
    assert list(lru) == ["b", "c"] and lru.size_bytes == 8
    assert lru.put("huge", "x", 11) is False
    assert "huge" not in list(lru) and lru.size_bytes == 8


def test_replacing_a_key_counts_its_size_once_and_peek_keeps_the_order() -> None:
    lru: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=10)
    lru.put("a", "old", 6)
    lru.put("b", "b", 1)
    lru.put("a", "new", 3)
    assert lru.size_bytes == 4 and list(lru) == ["b", "a"]
    assert lru.peek("b") == "b" and list(lru) == ["b", "a"]
    lru.clear()
    assert len(lru) == 0 and lru.size_bytes == 0


def test_an_expired_entry_is_never_returned_and_goes_before_live_ones() -> None:
    now = [100.0]
    lru: BoundedLRU[str, str] = BoundedLRU(max_entries=2, max_bytes=100, clock=lambda: now[0])
    lru.put("old", "old", 1, ttl=5)
    lru.put("live", "live", 1, ttl=60)
    now[0] += 10
    lru.put("new", "new", 1, ttl=60)  # over the bound: the expired entry goes, not "live"
    assert list(lru) == ["live", "new"]
    now[0] += 60
    assert lru.get("live") is None and len(lru) == 1
