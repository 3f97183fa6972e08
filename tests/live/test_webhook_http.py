"""``POST /webhooks/kombo`` on the real app over loopback (uvicorn in the test's event loop, the
sandbox upstream in its own process, its request log counting upstream calls): signatures, body
checks, duplicate ids, and a flood costing one refresh."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.config import Settings
from gateway.live import LiveFeed
from tests.support.clients import Sandbox
from tests.support.servers import DEFAULT_INTEGRATION, free_port, gateway_env
from tests.support.waiting import until

pytestmark = pytest.mark.anyio

SECRET = "whsec-test-secret-of-the-live-tests"
RARELY = {"GATEWAY_LIVE_MIN_REFRESH_SECONDS": "3600", "GATEWAY_LIVE_POLL_SECONDS": "3600"}


@asynccontextmanager
async def serving(
    sandbox_url: str, **extra: str
) -> AsyncIterator[tuple[httpx.AsyncClient, LiveFeed]]:
    """The gateway's app on a loopback port of its own; a client of it and its live feed."""
    port = free_port()
    settings = Settings.from_env(gateway_env(sandbox_url, port, **extra))
    app: Starlette = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        await until(lambda: server.started or task.done(), timeout=15, what="the gateway")
        assert server.started, task.exception() if task.done() else "not started"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client, app.state.live
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


def body(event_id: str = "evt-1", models: tuple[str, ...] = ("ats_interviews",)) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "data-changed",
            "data": {
                "integration_id": DEFAULT_INTEGRATION,
                "integration_tool": "greenhouse",
                "integration_category": "ATS",
                "changed_models": [{"name": m} for m in models],
            },
        }
    ).encode()


def signed(content: bytes, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()
    return {"X-Kombo-Signature": mac, "Content-Type": "application/json"}


async def post(
    client: httpx.AsyncClient, content: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post("/webhooks/kombo", content=content, headers=headers)


def interview_calls(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["path"].endswith("/ats/interviews")]


async def subscribed(live: LiveFeed) -> None:
    live.subscribe(DEFAULT_INTEGRATION, frozenset({"Interview"}))

    def holding() -> bool:
        refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
        return refresher is not None and refresher.holder

    await until(holding, what="the refresh lease")


def idle(live: LiveFeed) -> bool:
    """No refresh under way nor waiting to start."""
    refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
    assert refresher is not None
    return not refresher.running and not refresher._wake.is_set()


def refreshes(live: LiveFeed) -> dict[str, int]:
    refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
    assert refresher is not None
    return refresher.refreshes


async def test_a_forged_signature_gets_401_and_no_upstream_call(
    sandbox_url: str, sandbox: Sandbox
) -> None:
    async with serving(sandbox_url, KOMBO_WEBHOOK_SECRET=SECRET, **RARELY) as (client, live):
        await subscribed(live)
        content = body("evt-forged")
        for headers in (
            signed(content, secret="not-the-secret"),
            {"Content-Type": "application/json"},
            {"X-Kombo-Signature": "sha256=" + "0" * 64},
            signed(content + b" "),
        ):
            answer = await post(client, content, headers)
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
            assert answer.headers["cache-control"] == "no-store"
        assert interview_calls(sandbox) == [] and refreshes(live) == {}
        # The genuine one refreshes at once: had a forged one refreshed, this one would wait the
        # hour of GATEWAY_LIVE_MIN_REFRESH_SECONDS as a follow-up.
        answer = await post(client, content, signed(content))
        assert answer.status_code == 200 and answer.json() == {"status": "accepted"}
        await until(lambda: refreshes(live) == {"webhook": 1} and idle(live))
        await until(lambda: len(interview_calls(sandbox)) == 1, what="the refresh's call")
        (call,) = interview_calls(sandbox)
        assert call["params"]["include_deleted"] == "true"
        assert call["params"]["page_size"] == "250" and "updated_after" in call["params"]
        assert call["integration_id"] == DEFAULT_INTEGRATION


async def test_every_accepted_signature_encoding_over_http(
    sandbox_url: str, sandbox: Sandbox
) -> None:
    import base64

    async with serving(sandbox_url, KOMBO_WEBHOOK_SECRET=SECRET, **RARELY) as (client, _live):
        for index, encode in enumerate(
            (
                lambda mac: mac.hex(),
                lambda mac: "sha256=" + mac.hex().upper(),
                lambda mac: base64.b64encode(mac).decode(),
                lambda mac: base64.urlsafe_b64encode(mac).decode().rstrip("="),
            )
        ):
            content = body(f"evt-encoding-{index}")
            mac = hmac.new(SECRET.encode(), content, hashlib.sha256).digest()
            answer = await post(client, content, {"X-Kombo-Signature": encode(mac)})
            assert answer.status_code == 200, (index, answer.text)


async def test_a_flood_of_webhooks_costs_one_refresh(sandbox_url: str, sandbox: Sandbox) -> None:
    async with serving(sandbox_url, KOMBO_WEBHOOK_SECRET=SECRET, **RARELY) as (client, live):
        await subscribed(live)
        contents = [body(f"evt-flood-{i}") for i in range(60)]
        answers = await asyncio.gather(*(post(client, c, signed(c)) for c in contents))
        assert [a.status_code for a in answers] == [200] * 60
        await until(lambda: refreshes(live) == {"webhook": 1}, what="the first refresh")
        await until(lambda: len(interview_calls(sandbox)) >= 1)
        assert len(interview_calls(sandbox)) == 1
        # The hints after it folded into one follow-up, an hour away.
        more = body("evt-flood-last")
        assert (await post(client, more, signed(more))).status_code == 200
        refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
        assert refresher is not None
        await until(lambda: refresher._wake.is_set(), what="the follow-up is queued")
        assert refreshes(live) == {"webhook": 1} and len(interview_calls(sandbox)) == 1


async def test_a_duplicate_event_id_schedules_nothing(sandbox_url: str, sandbox: Sandbox) -> None:
    async with serving(sandbox_url, **RARELY) as (client, live):
        await subscribed(live)
        content = body("evt-twice")
        first = await post(client, content, {})  # no secret configured: unsigned is taken
        assert first.status_code == 200 and first.json() == {"status": "accepted"}
        await until(lambda: refreshes(live) == {"webhook": 1} and idle(live))
        second = await post(client, content, {})
        assert second.status_code == 200 and second.json() == {"status": "duplicate"}
        refresher = live.refresher(DEFAULT_INTEGRATION, "Interview")
        assert refresher is not None and not refresher._wake.is_set()


async def test_malformed_oversized_and_other_bodies(sandbox_url: str, sandbox: Sandbox) -> None:
    async with serving(sandbox_url, KOMBO_WEBHOOK_SECRET=SECRET, **RARELY) as (client, live):
        await subscribed(live)
        for content in (
            b"not json",
            b"[]",
            b'{"id": "x"}',
            json.dumps({"id": "x", "type": "data-changed"}).encode(),
        ):
            answer = await post(client, content, signed(content))
            assert answer.status_code == 400, content
            assert answer.json()["error"]["code"] == "BAD_REQUEST"
        huge = body("evt-huge")[:-1] + b', "pad": "' + b"x" * 70_000 + b'"}'
        answer = await post(client, huge, signed(huge))
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(20):
                yield b"x" * 4096

        chunked = await client.post("/webhooks/kombo", content=chunks(), headers=signed(b""))
        assert chunked.status_code == 413  # no Content-Length: counted as it arrives
        other = json.dumps({"id": "evt-other", "type": "connection-deleted"}).encode()
        answer = await post(client, other, signed(other))
        assert answer.status_code == 200 and answer.json() == {"status": "ignored"}
        unserved = body("evt-hris", models=("hris_employees",))
        answer = await post(client, unserved, signed(unserved))
        assert answer.status_code == 200 and answer.json() == {"status": "accepted"}
        assert (await client.get("/webhooks/kombo")).status_code == 405
        assert refreshes(live) == {} and interview_calls(sandbox) == []
