"""The live feed inside the app: one per process, on GatewayContext, closed when shutdown begins,
counted in /metrics, and coordinated through GATEWAY_REDIS_URL between two gateways."""

from __future__ import annotations

import asyncio

import pytest

from gateway.lifecycle import drain
from gateway.live import LiveLimitExceeded
from gateway.live.redis import RedisCoordinator
from tests.live.test_webhook_http import RARELY, body, idle, interview_calls, serving
from tests.support.clients import Sandbox
from tests.support.redis_server import RedisServer
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.waiting import until

pytestmark = pytest.mark.anyio


async def test_shutdown_ends_subscriptions_and_refuses_new_ones(sandbox_url: str) -> None:
    async with serving(sandbox_url, **RARELY) as (_client, live):
        subscription = live.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))
        waiting = asyncio.create_task(anext(subscription, None))
        assert live.begin_drain in drain.on_shutdown
        drain.shutting_down()  # what GatewayServer does once its shutdown begins
        assert await asyncio.wait_for(waiting, 5) is None
        assert subscription.closed and not subscription.overflowed
        with pytest.raises(LiveLimitExceeded):
            live.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))
    assert live.begin_drain not in drain.on_shutdown


async def test_the_live_metrics_are_exposed(sandbox_url: str) -> None:
    async with serving(sandbox_url, **RARELY) as (client, live):
        live.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))
        content = body("evt-metrics")
        assert (await client.post("/webhooks/kombo", content=content)).status_code == 200
        refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
        assert refresher is not None
        await until(lambda: refresher.refreshes == {"webhook": 1} and idle(live))
        text = (await client.get("/metrics")).text
        assert 'kombo_gateway_live_webhooks_total{outcome="accepted"}' in text
        assert 'kombo_gateway_live_refreshes_total{outcome="ok",trigger="webhook"} 1.0' in text
        assert "kombo_gateway_live_subscribers " in text
        assert 'kombo_gateway_upstream_requests_total{endpoint="/ats/interviews"' in text


async def test_two_gateways_on_one_redis_refresh_once_for_a_webhook_to_either(
    sandbox_url: str, sandbox: Sandbox, empty_redis: RedisServer
) -> None:
    env = {**RARELY, "GATEWAY_REDIS_URL": empty_redis.url}
    async with (
        serving(sandbox_url, **env) as (client_a, live_a),
        serving(sandbox_url, **env) as (client_b, live_b),
    ):
        assert isinstance(live_a.coordinator, RedisCoordinator)
        live_a.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))
        live_b.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))

        def refreshers():  # type: ignore[no-untyped-def]
            return [
                r
                for r in (
                    live_a.refresher(DEFAULT_INTEGRATION, "Interview"),
                    live_b.refresher(DEFAULT_INTEGRATION, "Interview"),
                )
                if r is not None
            ]

        await until(lambda: sum(r.holder for r in refreshers()) == 1, what="one holder")
        channel = live_a.coordinator.channel(DEFAULT_INTEGRATION)

        def both_listen() -> bool:
            ((_, listeners),) = empty_redis.client().pubsub_numsub(channel)
            return bool(listeners == 2)

        await until(both_listen)
        (holder,) = [r for r in refreshers() if r.holder]
        (other,) = [r for r in refreshers() if not r.holder]
        client = (
            client_b if holder is live_a.refresher(DEFAULT_INTEGRATION, "Interview") else client_a
        )
        content = body("evt-cluster")
        assert (await client.post("/webhooks/kombo", content=content)).status_code == 200
        # The same event delivered to the other gateway too (Kombo retrying): taken once.
        again = await (client_a if client is client_b else client_b).post(
            "/webhooks/kombo", content=content
        )
        assert again.json() == {"status": "duplicate"}
        await until(
            lambda: (
                holder.refreshes == {"webhook": 1}
                and not holder._wake.is_set()
                and not holder.running
            )
        )
        await until(lambda: len(interview_calls(sandbox)) >= 1)
        assert len(interview_calls(sandbox)) == 1 and other.refreshes == {}
