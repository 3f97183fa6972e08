"""Two live feeds (two replicas) on one real Redis: one lease, hints and changes fanned out to
both, a dead holder's lease handed over, nothing delivered twice, no integration id in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gateway.live import ChangeEvent, LiveFeed, LiveSubscription
from gateway.live.redis import RedisCoordinator, live_secret
from tests.support.live_upstream import INTEGRATION, ChangingKombo
from tests.support.redis_server import RedisServer
from tests.support.waiting import until

pytestmark = pytest.mark.anyio

LEASE = 0.6  # seconds: a dead holder's lease is gone within this, retaken a third later
SECRET = live_secret("https://api.kombo.dev/v1", "test-key")


@pytest.fixture
def upstream() -> ChangingKombo:
    kombo = ChangingKombo()
    kombo.add_interviews(5)
    return kombo


def replica(upstream: ChangingKombo, redis: RedisServer) -> LiveFeed:
    return LiveFeed(
        upstream,  # type: ignore[arg-type]
        coordinator=RedisCoordinator(redis.url, SECRET),
        poll_seconds=3600,
        min_refresh_seconds=0,
        lease_seconds=LEASE,
    )


@pytest.fixture
async def replicas(
    upstream: ChangingKombo, empty_redis: RedisServer
) -> AsyncIterator[tuple[LiveFeed, LiveFeed]]:
    a, b = replica(upstream, empty_redis), replica(upstream, empty_redis)
    await a.start()
    await b.start()
    yield a, b
    await a.aclose()
    await b.aclose()


def holders(*feeds: LiveFeed, model: str = "Interview") -> list[LiveFeed]:
    found = []
    for feed in feeds:
        refresher = feed.refresher(INTEGRATION, model)
        if refresher is not None and refresher.holder:
            found.append(feed)
    return found


async def listening(redis: RedisServer, count: int) -> None:
    """Until ``count`` feeds listen on the integration's channel."""
    channel = RedisCoordinator("redis://x", SECRET).channel(INTEGRATION)

    def subscribed() -> bool:
        ((_, listeners),) = redis.client().pubsub_numsub(channel)
        return bool(listeners == count)

    await until(subscribed, what=f"{count} listeners")


def received(subscription: LiveSubscription) -> list[ChangeEvent]:
    events = []
    while subscription.pending:
        events.append(subscription._items.popleft())
    return events


async def both_subscribed(
    a: LiveFeed, b: LiveFeed, redis: RedisServer
) -> tuple[LiveSubscription, LiveSubscription, LiveFeed]:
    """Each replica subscribed to Interview, both listening, one holding the lease: the two
    subscriptions and the holder."""
    on_a = a.subscribe(INTEGRATION, frozenset({"Interview"}))
    on_b = b.subscribe(INTEGRATION, frozenset({"Interview"}))
    await listening(redis, 2)
    await until(lambda: len(holders(a, b)) == 1, what="one holder")
    (holder,) = holders(a, b)
    return on_a, on_b, holder


async def settled(*feeds: LiveFeed, refreshes: int) -> None:
    """Until the feeds' refreshers of Interview have done ``refreshes`` in all."""

    def done() -> bool:
        total = 0
        for feed in feeds:
            refresher = feed.refresher(INTEGRATION, "Interview")
            if refresher is not None:
                total += sum(refresher.refreshes.values()) - refresher.running
        return total >= refreshes

    await until(done, what=f"{refreshes} refreshes")


async def test_one_lease_and_a_hint_to_either_replica_reaches_both(
    replicas: tuple[LiveFeed, LiveFeed], upstream: ChangingKombo, empty_redis: RedisServer
) -> None:
    a, b = replicas
    on_a, on_b, holder = await both_subscribed(a, b, empty_redis)
    other = b if holder is a else a
    # A webhook received by the replica that does not refresh: the holder refreshes, once.
    upstream.change("iv-1")
    await other.hint(INTEGRATION, frozenset({"Interview"}))
    first_a = await asyncio.wait_for(anext(on_a), 5)
    first_b = await asyncio.wait_for(anext(on_b), 5)
    assert first_a.record["id"] == first_b.record["id"] == "iv-1"
    assert len(upstream.upstream_calls()) == 1
    assert holder.refresher(INTEGRATION, "Interview").refreshes == {"webhook": 1}  # type: ignore[union-attr]
    assert other.refresher(INTEGRATION, "Interview").refreshes == {}  # type: ignore[union-attr]
    # Still one holder, after several renewals.
    await until(lambda: len(upstream.calls) == 1 and holders(a, b) == [holder])


async def test_a_dead_holders_lease_is_taken_over_and_nothing_arrives_twice(
    replicas: tuple[LiveFeed, LiveFeed], upstream: ChangingKombo, empty_redis: RedisServer
) -> None:
    a, b = replicas
    on_a, on_b, holder = await both_subscribed(a, b, empty_redis)
    survivor, survivor_sub = (b, on_b) if holder is a else (a, on_a)
    upstream.change("iv-0")
    await survivor.hint(INTEGRATION, frozenset({"Interview"}))
    assert (await asyncio.wait_for(anext(survivor_sub), 5)).record["id"] == "iv-0"
    await settled(holder, refreshes=1)

    await holder.abandon()  # killed: no lease given back, its renewals stop
    await until(lambda: holders(survivor) == [survivor], timeout=5 * LEASE, what="handover")
    upstream.change("iv-3")
    await survivor.hint(INTEGRATION, frozenset({"Interview"}))
    event = await asyncio.wait_for(anext(survivor_sub), 5)
    assert event.record["id"] == "iv-3"
    refresher = survivor.refresher(INTEGRATION, "Interview")
    assert refresher is not None
    await until(lambda: not refresher.running and not refresher._wake.is_set())
    # The new holder continued from the dead one's watermark: it re-read nothing older, and the
    # overlap with that refresh's start never reaches the subscriber twice. (Taking over within
    # two lease lives of the hint it ignored, it may first have refreshed for that hint: the
    # dead holder might not have acted on it. One call more, from the same watermark.)
    done = sum(refresher.refreshes.values())
    calls = upstream.upstream_calls()
    assert done in (1, 2) and len(calls) == 1 + done
    assert all(calls[0].updated_after < call.updated_after for call in calls[1:])  # type: ignore[operator]
    await survivor.hint(INTEGRATION, frozenset({"Interview"}))
    await settled(survivor, refreshes=done + 1)
    assert received(survivor_sub) == []


async def test_a_hint_while_a_dead_holders_lease_runs_out_is_acted_on_at_the_handover(
    replicas: tuple[LiveFeed, LiveFeed], upstream: ChangingKombo, empty_redis: RedisServer
) -> None:
    a, b = replicas
    a.subscribe(INTEGRATION, frozenset({"Interview"}))
    await until(lambda: holders(a) == [a], what="a holds the lease")
    on_b = b.subscribe(INTEGRATION, frozenset({"Interview"}))
    await listening(empty_redis, 2)
    await a.abandon()  # killed: its lease stands until it expires
    upstream.change("iv-2")
    await b.hint(INTEGRATION, frozenset({"Interview"}))  # b does not hold the lease yet
    # No other hint and no poll (an hour): the hint b ignored is acted on when b takes over.
    event = await asyncio.wait_for(anext(on_b), 5 * LEASE)
    assert event.record["id"] == "iv-2"
    assert b.refresher(INTEGRATION, "Interview").refreshes == {"webhook": 1}  # type: ignore[union-attr]
    assert received(on_b) == []


async def test_overlapping_refreshes_never_deliver_a_version_twice(
    replicas: tuple[LiveFeed, LiveFeed], upstream: ChangingKombo, empty_redis: RedisServer
) -> None:
    a, b = replicas
    on_a, on_b, _holder = await both_subscribed(a, b, empty_redis)
    seen_a: list[str] = []
    seen_b: list[str] = []
    for round_ in range(5):
        upstream.change(f"iv-{round_}")
        await (a if round_ % 2 else b).hint(INTEGRATION, frozenset({"Interview"}))
        await settled(a, b, refreshes=round_ + 1)
        await until(lambda: on_a.pending >= 1 and on_b.pending >= 1, what="this round's change")
        seen_a += [e.event_key for e in received(on_a)]
        seen_b += [e.event_key for e in received(on_b)]
    assert len(seen_a) == len(set(seen_a)) == 5
    assert seen_a == seen_b


async def test_webhook_event_ids_are_taken_once_across_replicas(
    replicas: tuple[LiveFeed, LiveFeed],
) -> None:
    a, b = replicas
    assert await a.first_delivery("event-1")
    assert not await b.first_delivery("event-1")
    assert not await a.first_delivery("event-1")
    assert await b.first_delivery("event-2")


async def test_no_integration_id_in_any_redis_name(
    replicas: tuple[LiveFeed, LiveFeed], upstream: ChangingKombo, empty_redis: RedisServer
) -> None:
    a, b = replicas
    a.subscribe(INTEGRATION, frozenset({"Interview"}))
    b.subscribe(INTEGRATION, frozenset({"Interview"}))
    await listening(empty_redis, 2)
    await until(lambda: len(holders(a, b)) == 1)
    await a.first_delivery("event-9")
    upstream.change("iv-2")
    await a.hint(INTEGRATION, frozenset({"Interview"}))
    await settled(a, b, refreshes=1)
    client = empty_redis.client()
    names = [k.decode() for k in client.keys("*")]
    channels = [c.decode() for c in client.pubsub_channels()]
    assert any(n.startswith("kombo-gateway:v1:live:lease:") for n in names)
    assert any(n.startswith("kombo-gateway:v1:live:watermark:") for n in names)
    assert any(n.startswith("kombo-gateway:v1:live:webhook:") for n in names)
    assert any(c.startswith("kombo-gateway:v1:live:") for c in channels)
    for name in names + channels:
        assert "test" not in name and "live" + ":" + INTEGRATION not in name, name
        assert "event-9" not in name


async def test_the_last_subscriber_leaving_gives_the_lease_back(
    replicas: tuple[LiveFeed, LiveFeed], empty_redis: RedisServer
) -> None:
    a, b = replicas
    on_a = a.subscribe(INTEGRATION, frozenset({"Interview"}))
    await until(lambda: holders(a) == [a])
    b.subscribe(INTEGRATION, frozenset({"Interview"}))
    on_a.close()  # a's refresher stops and deletes its lease: b takes it at its next try
    await until(lambda: holders(b) == [b], timeout=2 * LEASE, what="b takes the lease")
