"""The response cache inside the Kombo client, in one process (README "Caching").

The client talks to the sandbox app in-process through a transport that counts the requests
reaching it: what the cache answers never gets there. The stores and the key derivation are
tested on their own too.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from gateway.kombo import KomboAPIError, KomboClient, KomboConfig, ListQuery, PageCacheConfig
from gateway.kombo.cache import PARSED_SIZE_FACTOR, MemoryPageStore, PageCache
from gateway.kombo.catalog import CATALOG
from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.records import Page
from gateway.sandbox.data import MODEL_NOT_AVAILABLE_INTEGRATION, interviews_for
from tests.support.sandbox_upstream import (
    ACME,
    API_KEY,
    BASE_URL,
    GLOBEX,
    CountingTransport,
    counting_sandbox,
)

PATH = "/ats/interviews"
INTERVIEWS = CATALOG["Interview"]


def interviews(**filters: object) -> ListQuery:
    return ListQuery.of(INTERVIEWS, filters)  # type: ignore[arg-type]


@pytest.fixture
def upstream() -> CountingTransport:
    return counting_sandbox()


def open_client(upstream: CountingTransport, ttl: int | None = 30) -> KomboClient:
    cache = PageCacheConfig(ttl=ttl) if ttl else None
    config = KomboConfig(api_key=API_KEY, base_url=BASE_URL, transport=upstream, cache=cache)
    return KomboClient.open(config)


@pytest.fixture
async def client(upstream: CountingTransport) -> AsyncIterator[KomboClient]:
    kombo = open_client(upstream)
    yield kombo
    await kombo.aclose()


def ids(page: Page) -> list[str]:
    return [interview["id"] for interview in page.results]


# --- the client ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_without_a_ttl_every_call_goes_upstream(upstream: CountingTransport) -> None:
    kombo = open_client(upstream, ttl=None)
    try:
        assert kombo.cache is None
        for _ in range(2):
            await kombo.list_records(ACME, interviews(), page_size=5)
    finally:
        await kombo.aclose()
    assert len(upstream.requests) == 2


@pytest.mark.anyio
async def test_an_identical_call_is_answered_from_the_cache(
    client: KomboClient, upstream: CountingTransport
) -> None:
    first = await client.list_records(ACME, interviews(), page_size=5)
    second = await client.list_records(ACME, interviews(), page_size=5)
    assert second == first
    assert len(upstream.requests) == 1
    assert client.cache is not None and (client.cache.hits, client.cache.misses) == (1, 1)


@pytest.mark.anyio
async def test_every_parameter_is_part_of_the_key(
    client: KomboClient, upstream: CountingTransport
) -> None:
    first = await client.list_records(ACME, interviews(), page_size=5)
    assert first.next is not None
    calls = [
        (interviews(), 6, None),  # page size
        (interviews(), 5, first.next),  # cursor
        (interviews(include_deleted=True), 5, None),  # a filter
        (interviews(ignore_unsupported_filters=True), 5, None),
    ]
    for query, page_size, cursor in calls:
        await client.list_records(ACME, query, page_size=page_size, cursor=cursor)
    assert len(upstream.requests) == 1 + len(calls)
    for query, page_size, cursor in calls:  # each is cached under its own key now
        await client.list_records(ACME, query, page_size=page_size, cursor=cursor)
    assert len(upstream.requests) == 1 + len(calls)


@pytest.mark.anyio
async def test_integrations_never_share_an_entry(
    client: KomboClient, upstream: CountingTransport
) -> None:
    acme = await client.list_records(ACME, interviews(), page_size=5)
    globex = await client.list_records(GLOBEX, interviews(), page_size=5)
    assert len(upstream.requests) == 2
    assert [r.headers["X-Integration-Id"] for r in upstream.requests] == [ACME, GLOBEX]
    assert ids(acme) == [i.payload["id"] for i in interviews_for(ACME)[:5]]
    assert ids(globex) == [i.payload["id"] for i in interviews_for(GLOBEX)[:5]]
    assert set(ids(acme)).isdisjoint(ids(globex))
    # Cached now, and still each its own.
    assert await client.list_records(GLOBEX, interviews(), page_size=5) == globex
    assert await client.list_records(ACME, interviews(), page_size=5) == acme
    assert len(upstream.requests) == 2


@pytest.mark.anyio
async def test_id_batches_are_keyed_by_their_exact_ids(
    client: KomboClient, upstream: CountingTransport
) -> None:
    known = [i.payload["id"] for i in interviews_for(ACME)[:3]]
    batch = ListQuery.by_ids(INTERVIEWS, tuple(known))
    first = await client.list_records(ACME, batch, page_size=3)
    assert sorted(ids(first)) == sorted(known)
    await client.list_records(ACME, batch, page_size=3)
    assert len(upstream.requests) == 1
    other_order = ListQuery.by_ids(INTERVIEWS, tuple(reversed(known)))
    await client.list_records(ACME, other_order, page_size=3)
    fewer = ListQuery.by_ids(INTERVIEWS, tuple(known[:2]))
    await client.list_records(ACME, fewer, page_size=2)
    assert len(upstream.requests) == 3


@pytest.mark.anyio
async def test_a_hit_is_no_upstream_call_for_the_callers_budget(client: KomboClient) -> None:
    spent: list[str] = []
    for _ in range(3):
        await client.list_records(
            ACME, interviews(), page_size=5, on_upstream_call=lambda: spent.append("call")
        )
    assert spent == ["call"]


@pytest.mark.anyio
async def test_a_refusing_budget_stops_a_miss_before_it_reaches_kombo(
    client: KomboClient, upstream: CountingTransport
) -> None:
    class Exhausted(Exception):
        pass

    def refuse() -> None:
        raise Exhausted

    with pytest.raises(Exhausted):
        await client.list_records(ACME, interviews(), page_size=5, on_upstream_call=refuse)
    assert upstream.requests == []
    await client.list_records(ACME, interviews(), page_size=5)  # cached now
    await client.list_records(ACME, interviews(), page_size=5, on_upstream_call=refuse)
    assert len(upstream.requests) == 1


@pytest.mark.anyio
async def test_error_answers_are_not_cached(
    client: KomboClient, upstream: CountingTransport
) -> None:
    for _ in range(2):
        with pytest.raises(KomboAPIError):
            await client.list_records(MODEL_NOT_AVAILABLE_INTEGRATION, interviews(), page_size=5)
    assert len(upstream.requests) == 2


@pytest.mark.anyio
async def test_malformed_answers_are_not_cached_and_the_next_success_is(
    client: KomboClient, upstream: CountingTransport
) -> None:
    upstream.override = lambda _request: httpx.Response(200, content=b'{"status": "success"')
    with pytest.raises(KomboMalformedResponse):
        await client.list_records(ACME, interviews(), page_size=5)
    upstream.override = lambda _request: httpx.Response(200, json={"status": "success"})
    with pytest.raises(KomboMalformedResponse):
        await client.list_records(ACME, interviews(), page_size=5)
    upstream.override = None
    good = await client.list_records(ACME, interviews(), page_size=5)
    assert await client.list_records(ACME, interviews(), page_size=5) == good
    assert len(upstream.requests) == 3


@pytest.mark.anyio
async def test_concurrent_identical_misses_make_one_request(
    client: KomboClient, upstream: CountingTransport
) -> None:
    pages = await asyncio.gather(
        *(client.list_records(ACME, interviews(), page_size=7) for _ in range(10))
    )
    assert all(page == pages[0] for page in pages)
    assert len(upstream.requests) == 1


# --- keys ------------------------------------------------------------------------------------


def cache(api_key: str = API_KEY, base_url: str = BASE_URL) -> PageCache:
    return PageCache.for_upstream(MemoryPageStore(), 30, base_url=base_url, api_key=api_key)


def test_the_key_is_an_opaque_digest_naming_no_integration() -> None:
    key = cache().key(PATH, ACME, {"page_size": "5", "include_deleted": "false"})
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert ACME not in key and "acme" not in key


def test_the_key_is_equal_exactly_when_integration_and_params_are() -> None:
    pages = cache()
    params = {"page_size": "5", "include_deleted": "false", "ids": "a,b"}
    key = pages.key(PATH, ACME, params)
    assert pages.key(PATH, ACME, dict(reversed(list(params.items())))) == key
    assert pages.key(PATH, GLOBEX, params) != key
    assert pages.key(PATH, ACME, {**params, "ids": "b,a"}) != key
    assert pages.key(PATH, ACME, {**params, "cursor": "c"}) != key
    # The same parameters at another endpoint are another page.
    assert pages.key("/ats/jobs", ACME, params) != key
    # Values holding separators cannot be made to collide with other params.
    assert pages.key(PATH, ACME, {"ids": "a", "job_ids": "b"}) != pages.key(
        PATH, ACME, {"ids": "a&job_ids=b"}
    )


def test_keys_belong_to_one_upstream_account() -> None:
    params = {"page_size": "5"}
    key = cache().key(PATH, ACME, params)
    assert cache(api_key="another-key").key(PATH, ACME, params) != key
    assert cache(base_url="https://api.us.kombo.dev/v1").key(PATH, ACME, params) != key
    assert cache(base_url=BASE_URL + "/").key(PATH, ACME, params) == key


# --- the in-process store --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def page(name: str) -> Page:
    return Page(PATH, results=(), next=name)


def body(size: int) -> bytes:
    return orjson.dumps({"pad": "x" * (size - 10)})[:size]


@pytest.mark.anyio
async def test_memory_store_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    store = MemoryPageStore(clock=clock)
    await store.put("k", page("a"), body(100), ttl=2)
    clock.now += 1.99
    assert await store.get("k") == page("a")
    clock.now += 0.01
    assert await store.get("k") is None
    assert len(store) == 0 and store.size_bytes == 0


@pytest.mark.anyio
async def test_memory_store_evicts_the_least_recently_used_past_its_entry_bound() -> None:
    store = MemoryPageStore(max_entries=2)
    await store.put("a", page("a"), body(100), ttl=30)
    await store.put("b", page("b"), body(100), ttl=30)
    assert await store.get("a") is not None  # now "b" is the least recently used
    await store.put("c", page("c"), body(100), ttl=30)
    assert await store.get("b") is None
    assert await store.get("a") == page("a") and await store.get("c") == page("c")
    assert len(store) == 2


@pytest.mark.anyio
async def test_memory_store_stays_within_its_byte_bound() -> None:
    entry = 1000 * PARSED_SIZE_FACTOR  # what a 1,000-byte body is charged
    store = MemoryPageStore(max_bytes=3 * entry)
    for name in "abcd":
        await store.put(name, page(name), body(1000), ttl=30)
        assert store.size_bytes <= 3 * entry
    assert await store.get("a") is None
    assert [await store.get(n) is not None for n in "bcd"] == [True, True, True]
    await store.put("huge", page("huge"), body(3001), ttl=30)  # larger than the whole budget
    assert await store.get("huge") is None
    assert len(store) == 3


@pytest.mark.anyio
async def test_memory_store_drops_expired_entries_before_live_ones() -> None:
    clock = Clock()
    store = MemoryPageStore(max_entries=2, clock=clock)
    await store.put("live", page("live"), body(100), ttl=30)
    await store.put("short", page("short"), body(100), ttl=1)
    assert await store.get("live") is not None
    clock.now += 5
    await store.put("new", page("new"), body(100), ttl=30)
    assert await store.get("live") == page("live")
    assert await store.get("new") == page("new")


def test_page_cache_config_refuses_a_zero_ttl() -> None:
    with pytest.raises(ValueError):
        PageCacheConfig(ttl=0)
