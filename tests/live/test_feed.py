"""The live feed in one process over a changing fake upstream: refreshes, triggers, rate limits,
de-duplication, bounded queues and limits (no Redis: the in-process coordinator)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from gateway.kombo import KomboClient, KomboConfig, KomboUnavailable, ListQuery, RetryPolicy
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_record
from gateway.live import ChangeEvent, LiveFeed, LiveLimitExceeded, LiveSubscription
from gateway.live.feed import event_key
from tests.support.live_upstream import INTEGRATION, ChangingKombo
from tests.support.sandbox_upstream import ACME, API_KEY, BASE_URL, counting_sandbox
from tests.support.waiting import until

pytestmark = pytest.mark.anyio

QUIET = {"poll_seconds": 3600.0, "min_refresh_seconds": 0.0}


@pytest.fixture
def upstream() -> ChangingKombo:
    kombo = ChangingKombo()
    kombo.add_interviews(5)
    return kombo


@pytest.fixture
async def feed(upstream: ChangingKombo) -> AsyncIterator[LiveFeed]:
    live = LiveFeed(upstream, **QUIET)  # type: ignore[arg-type]
    await live.start()
    yield live
    await live.aclose()


def received(subscription: LiveSubscription) -> list[ChangeEvent]:
    """What is queued now, taken off the queue."""
    events = []
    while subscription.pending:
        events.append(subscription._items.popleft())
    return events


async def next_event(subscription: LiveSubscription, timeout: float = 5.0) -> ChangeEvent:
    return await asyncio.wait_for(anext(subscription), timeout)


async def holding(feed: LiveFeed, model: str = "Interview") -> None:
    await until(lambda: (r := feed.refresher(INTEGRATION, model)) is not None and r.holder)


async def refreshed(feed: LiveFeed, count: int, model: str = "Interview") -> None:
    def done() -> bool:
        r = feed.refresher(INTEGRATION, model)
        return (
            r is not None
            and sum(r.refreshes.values()) >= count
            and not r._wake.is_set()
            and not r.running
        )

    await until(done, what=f"{count} refreshes")


async def test_a_hinted_change_reaches_the_subscriber_once_as_reparseable_json(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    subscription = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    stamp = upstream.change("iv-2")
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    event = await next_event(subscription)
    assert (event.integration_id, event.model) == (INTEGRATION, "Interview")
    assert event.record["id"] == "iv-2" and event.record["changed_at"] == stamp
    assert event.event_key == event_key("Interview", event.record)
    assert orjson.loads(orjson.dumps(event.record)) == event.record  # plain JSON
    assert type(event.record) is dict
    parsed = parse_record(CATALOG["Interview"], event.record)
    assert parsed["application"]["candidate"]["first_name"] == "Grace"
    # The refresh asked for what changed since the subscription, deleted records included.
    (call,) = upstream.upstream_calls()
    assert call.include_deleted and call.page_size == 250 and call.updated_after is not None
    # Refreshed again (the watermark overlaps the last refresh): the same version is not resent.
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    await refreshed(feed, 2)
    assert received(subscription) == []


async def test_the_watermark_is_the_start_of_the_previous_refresh(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    for count in (1, 2, 3):
        await feed.hint(INTEGRATION, frozenset({"Interview"}))
        await refreshed(feed, count)
    first, second, third = (c.updated_after for c in upstream.upstream_calls())
    assert first is not None and second is not None and third is not None
    assert first < second < third


async def test_a_deletion_arrives_with_remote_deleted_at(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    subscription = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    stamp = upstream.change("iv-1", deleted=True)
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    event = await next_event(subscription)
    assert event.record["remote_deleted_at"] == stamp
    assert event.event_key == event_key("Interview", event.record)


async def test_subscribers_get_only_their_models_and_their_integration(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    interviews = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    jobs = feed.subscribe(INTEGRATION, frozenset({"Job"}))
    other = feed.subscribe("test:other", frozenset({"Interview"}))
    await holding(feed)
    upstream.change("iv-0")
    await feed.hint(INTEGRATION, frozenset({"Interview", "Job"}))
    assert (await next_event(interviews)).record["id"] == "iv-0"
    await refreshed(feed, 1, "Job")
    assert received(jobs) == [] and received(other) == []
    # The other integration's refresher asked upstream for its own records only.
    assert {c.integration_id for c in upstream.calls} == {INTEGRATION}


async def test_a_refresh_pages_through_every_change(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    upstream.add_interviews(600, start=100)
    subscription = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    for index in range(100, 700):
        upstream.change(f"iv-{index}")
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    await refreshed(feed, 1)
    events = received(subscription)
    assert len(events) == 600 and len({e.event_key for e in events}) == 600
    assert [c.cursor for c in upstream.upstream_calls()] == [None, "off:250", "off:500"]


async def test_a_flood_of_hints_is_one_refresh_and_one_follow_up(upstream: ChangingKombo) -> None:
    live = LiveFeed(upstream, poll_seconds=3600, min_refresh_seconds=3600)  # type: ignore[arg-type]
    await live.start()
    try:
        live.subscribe(INTEGRATION, frozenset({"Interview"}))
        await holding(live)
        await live.hint(INTEGRATION, frozenset({"Interview"}))
        await refreshed(live, 1)
        for _ in range(100):
            await live.hint(INTEGRATION, frozenset({"Interview"}))
        refresher = live.refresher(INTEGRATION, "Interview")
        assert refresher is not None
        await until(lambda: refresher._wake.is_set(), what="the follow-up is queued")
        assert refresher.refreshes == {"webhook": 1}
        assert len(upstream.calls) == 1
    finally:
        await live.aclose()


async def test_hints_during_a_refresh_fold_into_exactly_one_follow_up(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    upstream.gate = asyncio.Event()
    feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    await until(lambda: len(upstream.calls) == 1)  # the first refresh is waiting upstream
    for _ in range(20):
        await feed.hint(INTEGRATION, frozenset({"Interview"}))
    upstream.gate.set()
    await refreshed(feed, 2)
    refresher = feed.refresher(INTEGRATION, "Interview")
    assert refresher is not None and refresher.refreshes == {"webhook": 2}
    assert len(upstream.calls) == 2 and not refresher._wake.is_set()


async def test_polling_alone_delivers_changes(upstream: ChangingKombo) -> None:
    live = LiveFeed(upstream, poll_seconds=1, min_refresh_seconds=0)  # type: ignore[arg-type]
    await live.start()
    try:
        subscription = live.subscribe(INTEGRATION, frozenset({"Interview"}))
        await holding(live)
        upstream.change("iv-3")
        event = await next_event(subscription, timeout=10)
        assert event.record["id"] == "iv-3"
        refresher = live.refresher(INTEGRATION, "Interview")
        assert refresher is not None and refresher.refreshes.get("poll", 0) >= 1
        assert "webhook" not in refresher.refreshes
    finally:
        await live.aclose()


async def test_an_upstream_failure_keeps_the_watermark(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    subscription = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    upstream.change("iv-4")
    upstream.failures.append(KomboUnavailable("Kombo is down"))
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    await refreshed(feed, 1)
    refresher = feed.refresher(INTEGRATION, "Interview")
    assert refresher is not None and refresher.failures == 1
    assert received(subscription) == []
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    assert (await next_event(subscription)).record["id"] == "iv-4"
    failed, retried = upstream.upstream_calls()
    assert failed.updated_after == retried.updated_after


async def test_a_slow_consumer_overflows_and_ends(upstream: ChangingKombo) -> None:
    live = LiveFeed(upstream, queue_size=3, **QUIET)  # type: ignore[arg-type]
    await live.start()
    try:
        slow = live.subscribe(INTEGRATION, frozenset({"Interview"}))
        fine = live.subscribe(INTEGRATION, frozenset({"Interview"}))
        await holding(live)
        for index in (0, 1):
            upstream.change(f"iv-{index}")
        await live.hint(INTEGRATION, frozenset({"Interview"}))
        await refreshed(live, 1)
        assert len(received(fine)) == 2
        for index in (2, 3, 4):
            upstream.change(f"iv-{index}")
        await live.hint(INTEGRATION, frozenset({"Interview"}))
        await refreshed(live, 2)
        assert slow.overflowed and slow.closed
        assert [e async for e in slow] == []  # iteration ends
        assert not fine.overflowed and len(received(fine)) == 3
        assert live.subscriptions == 1
    finally:
        await live.aclose()


async def test_limits_per_integration_and_per_process(upstream: ChangingKombo) -> None:
    live = LiveFeed(
        upstream,  # type: ignore[arg-type]
        max_subscriptions_per_integration=2,
        max_subscriptions=3,
        **QUIET,
    )
    await live.start()
    try:
        first = live.subscribe(INTEGRATION, frozenset({"Interview"}))
        live.subscribe(INTEGRATION, frozenset())
        with pytest.raises(LiveLimitExceeded) as per_integration:
            live.subscribe(INTEGRATION, frozenset({"Job"}))
        assert per_integration.value.scope == "integration"
        live.subscribe("test:other", frozenset({"Job"}))
        with pytest.raises(LiveLimitExceeded) as per_process:
            live.subscribe("test:third", frozenset({"Job"}))
        assert per_process.value.scope == "process"
        first.close()
        live.subscribe(INTEGRATION, frozenset({"Job"}))  # a closed one frees its place
        with pytest.raises(ValueError, match="no such model"):
            live.subscribe(INTEGRATION, frozenset({"Nope"}))
    finally:
        await live.aclose()


async def test_closing_the_feed_ends_every_subscription_and_refuses_new_ones(
    upstream: ChangingKombo,
) -> None:
    live = LiveFeed(upstream, **QUIET)  # type: ignore[arg-type]
    await live.start()
    subscription = live.subscribe(INTEGRATION, frozenset({"Interview"}))
    waiting = asyncio.create_task(anext(subscription, None))
    await holding(live)
    await live.aclose()
    assert await asyncio.wait_for(waiting, 5) is None
    assert subscription.closed and not subscription.overflowed
    with pytest.raises(LiveLimitExceeded) as refused:
        live.subscribe(INTEGRATION, frozenset({"Interview"}))
    assert refused.value.scope == "shutdown"


async def test_the_last_subscriber_leaving_stops_the_refresher(
    feed: LiveFeed, upstream: ChangingKombo
) -> None:
    subscription = feed.subscribe(INTEGRATION, frozenset({"Interview"}))
    await holding(feed)
    subscription.close()
    assert feed.refresher(INTEGRATION, "Interview") is None
    upstream.change("iv-0")
    await feed.hint(INTEGRATION, frozenset({"Interview"}))
    assert upstream.calls == []
    assert feed.subscriptions == 0


async def test_the_event_key_names_the_version_of_a_record() -> None:
    """Equal for equal content (key order aside); a change anywhere in the record, nested data
    included (what ``updated_after`` also finds, ``changed_at`` unchanged), is another version."""
    record: dict[str, Any] = {
        "id": "a",
        "changed_at": "2024-01-01T00:00:00.000Z",
        "application": {"current_stage": {"id": "s1"}},
    }
    key = event_key("Job", record)
    assert key.startswith("Job:a:")
    assert event_key("Job", dict(reversed(list(record.items())))) == key
    moved = {**record, "application": {"current_stage": {"id": "s2"}}}
    assert event_key("Job", moved) != key
    assert event_key("Job", {**record, "remote_deleted_at": "2024-01-02T00:00:00.000Z"}) != key
    assert event_key("Interview", record) != key


@pytest.mark.parametrize("model", [m.name for m in CATALOG])
async def test_published_records_parse_back_to_the_same_record(model: str) -> None:
    """The JSON a ChangeEvent carries is the client's parsed record; parsing it again (what the
    subscription resolver does) gives the same record, for every model of the sandbox."""
    upstream = counting_sandbox()
    client = KomboClient.open(KomboConfig(api_key=API_KEY, base_url=BASE_URL, transport=upstream))
    try:
        query = ListQuery.of(CATALOG[model], {"include_deleted": True})
        page = await client.list_records(ACME, query, page_size=50)
    finally:
        await client.aclose()
    assert page.results
    for record in page.results:
        as_json = orjson.loads(orjson.dumps(record))
        assert parse_record(CATALOG[model], as_json) == record


def test_the_sandbox_upstream_is_an_http_transport() -> None:
    assert isinstance(counting_sandbox(), httpx.AsyncBaseTransport)


async def test_a_refresh_goes_through_the_query_client_and_its_retries() -> None:
    """Refreshes spend what queries spend: the same client, so its retry policy and its
    per-integration slots. Kombo answers the refresh 503 once; the client retries, and the
    change arrives."""
    upstream = counting_sandbox()
    client = KomboClient.open(
        KomboConfig(
            api_key=API_KEY,
            base_url=BASE_URL,
            transport=upstream,
            retry=RetryPolicy(max_retries=2, base_delay=0.0),
            max_in_flight_per_integration=1,
        )
    )
    live = LiveFeed(client, **QUIET)
    await live.start()
    try:
        subscription = live.subscribe(ACME, frozenset({"Interview"}))
        await until(lambda: (r := live.refresher(ACME, "Interview")) is not None and r.holder)
        async with httpx.AsyncClient(transport=upstream, base_url="http://sandbox.test") as http:
            answer = await http.post(
                "/__sandbox/changes", json={"integration_id": ACME, "model": "Interview"}
            )
        assert answer.status_code == 201, answer.text
        edited = answer.json()["id"]
        upstream.requests.clear()

        def unavailable_once(request: httpx.Request) -> httpx.Response:
            upstream.override = None
            return httpx.Response(503)  # no error body: a server error, retried

        upstream.override = unavailable_once
        await live.hint(ACME, frozenset({"Interview"}))
        event = await next_event(subscription)
        assert event.record["id"] == edited
        refresh_calls = [r for r in upstream.requests if r.url.path.endswith("/ats/interviews")]
        assert len(refresh_calls) == 2  # the 503, then its retry
        assert refresh_calls[0].url.params == refresh_calls[1].url.params
        assert refresh_calls[1].url.params["include_deleted"] == "true"
    finally:
        await live.aclose()
        await client.aclose()
