"""Memory admission (gateway.admission): a per-process budget of estimated interviews, handed
out first come, first served; nothing stays reserved once a request has ended, however it ended.
The endpoint's part (503 with Retry-After, release after the response is sent, on errors and
cancellations) runs through a real Starlette app with a stand-in schema below."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.admission import MIN_WEIGHT, MemoryAdmission
from gateway.errors import GatewayAtCapacity
from gateway.execution import executable_schema
from gateway.http import GraphQLEndpoint
from gateway.kombo import Deadline
from gateway.schema import GatewayContext
from gateway.upstream import UpstreamAccess

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(scenario())  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_admits_within_the_budget_at_once_and_queues_beyond() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(100)
        assert await admission.acquire(60, timeout=0)
        assert not await admission.acquire(60, timeout=0)  # no wait allowed: refused
        waiting = asyncio.ensure_future(admission.acquire(60, timeout=5))
        await settle()
        assert not waiting.done() and admission.waiting == 1
        admission.release(60)
        assert await waiting is True
        assert admission.in_use == 60 and admission.waiting == 0

    run(scenario)


def test_first_come_first_served_a_big_request_is_not_starved_by_small_ones() -> None:
    async def scenario() -> list[str]:
        admission = MemoryAdmission(100)
        order: list[str] = []
        assert await admission.acquire(50, timeout=0)

        async def request(name: str, weight: int) -> None:
            assert await admission.acquire(weight, timeout=5)
            order.append(name)

        big = asyncio.ensure_future(request("big", 100))
        await settle()
        # Each of these would fit beside the 50 in use, but the big one came first.
        small = [asyncio.ensure_future(request(f"small{n}", 10)) for n in range(3)]
        await settle()
        assert order == []
        admission.release(50)
        await settle()
        assert order == ["big"]
        admission.release(100)
        await asyncio.gather(big, *small)
        assert admission.in_use == 30
        return order

    assert run(scenario) == ["big", "small0", "small1", "small2"]


def test_waiting_past_the_timeout_gives_up_and_lets_the_next_in() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(100)
        assert await admission.acquire(90, timeout=0)
        assert not await admission.acquire(50, timeout=0.05)  # the deadline passed first
        assert admission.waiting == 0 and admission.in_use == 90

        # A big waiter giving up lets a small one behind it in at once.
        big = asyncio.ensure_future(admission.acquire(100, timeout=0.05))
        await settle()
        small = asyncio.ensure_future(admission.acquire(10, timeout=5))
        await settle()
        assert not small.done()
        assert await big is False
        assert await small is True
        assert admission.in_use == 100 and admission.waiting == 0

    run(scenario)


def test_a_cancelled_waiter_leaves_nothing_reserved_or_queued() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(100)
        assert await admission.acquire(100, timeout=0)
        waiter = asyncio.ensure_future(admission.acquire(40, timeout=5))
        await settle()
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert admission.waiting == 0
        admission.release(100)
        assert admission.in_use == 0

        # Cancelled in the very step its grant arrives: the grant is given back.
        assert await admission.acquire(100, timeout=0)
        waiter = asyncio.ensure_future(admission.acquire(40, timeout=5))
        await settle()
        admission.release(100)  # grants the waiter (its future resolved)...
        waiter.cancel()  # ...before its task could run again
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert admission.in_use == 0 and admission.waiting == 0

    run(scenario)


def test_weights_have_a_floor_and_a_ceiling() -> None:
    admission = MemoryAdmission(1000)
    assert admission.weight(0) == MIN_WEIGHT
    assert admission.weight(4810) == 1000  # larger than the budget: it runs alone
    assert admission.weight(500) == 500


def test_a_ticket_releases_once_and_refuses_at_its_deadline() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(100)
        first, second = admission.ticket(), admission.ticket()
        await first.reserve(0, timeout=1)
        assert admission.in_use == MIN_WEIGHT
        first.release()
        first.release()  # twice: nothing more
        assert admission.in_use == 0
        await first.reserve(100, timeout=1)
        with pytest.raises(GatewayAtCapacity, match="the gateway is at capacity") as refused:
            await second.reserve(1, timeout=0.05)
        assert refused.value.code == "UPSTREAM_UNAVAILABLE"
        assert refused.value.http_status == 503 and refused.value.retry_after >= 1
        second.release()  # never reserved: nothing to give back
        assert admission.in_use == 100

    run(scenario)


# --- through the endpoint ---------------------------------------------------------------------


class BlockingKombo:
    """A Kombo client whose calls wait for ``answer`` (then fail: the field errors)."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.answer = asyncio.Event()

    async def list_records(self, *_args: Any, **_kwargs: Any) -> Any:
        self.started.set()
        await self.answer.wait()
        raise RuntimeError("no data in this test")


def app_with(admission: MemoryAdmission, kombo: BlockingKombo, timeout: float) -> Starlette:
    schema = executable_schema()

    async def context_getter(_request: Request) -> GatewayContext:
        upstream = UpstreamAccess(
            kombo=kombo,  # type: ignore[arg-type]
            integration_id="sandbox:acme-corp",
            deadline=Deadline.after(timeout),
        )
        return GatewayContext(
            upstream=upstream,
            cursor_key=b"k" * 32,
            request_id="r",
            admission=admission.ticket(),
        )

    endpoint = GraphQLEndpoint(schema, context_getter)
    return Starlette(routes=[Route("/graphql", endpoint, methods=["GET", "POST"])])


PAGE = "{ interviews(first: 250) { nodes { id } } }"


def test_the_endpoint_holds_the_reservation_until_the_answer_and_refuses_with_503() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(300)
        kombo = BlockingKombo()
        app = app_with(admission, kombo, timeout=0.3)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            post: Callable[..., Any] = client.post
            accept = {"Accept": "application/graphql-response+json"}
            running = asyncio.ensure_future(post("/graphql", json={"query": PAGE}, headers=accept))
            await kombo.started.wait()
            assert admission.in_use == 250
            refused = await post("/graphql", json={"query": PAGE}, headers=accept)
            assert refused.status_code == 503
            assert refused.headers["Retry-After"] == "1"
            [error] = refused.json()["errors"]
            assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
            assert error["message"].startswith("the gateway is at capacity")
            assert "data" not in refused.json()
            # The legacy media type too: the gateway is busy, whatever the client reads.
            legacy = await post("/graphql", json={"query": PAGE}, headers={"Accept": "*/*"})
            assert legacy.status_code == 503
            kombo.answer.set()
            answered = await running
            assert answered.status_code == 200 and answered.json()["errors"]
            assert admission.in_use == 0 and admission.waiting == 0

    run(scenario)


def test_a_request_cancelled_while_executing_or_queued_releases_everything() -> None:
    async def scenario() -> None:
        admission = MemoryAdmission(300)
        kombo = BlockingKombo()
        app = app_with(admission, kombo, timeout=30)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            running = asyncio.ensure_future(client.post("/graphql", json={"query": PAGE}))
            await kombo.started.wait()
            queued = asyncio.ensure_future(client.post("/graphql", json={"query": PAGE}))
            while admission.waiting == 0:
                await asyncio.sleep(0.01)
            assert admission.in_use == 250
            queued.cancel()  # the client gives up while queued...
            running.cancel()  # ...and while executing
            for task in (queued, running):
                with pytest.raises(asyncio.CancelledError):
                    await task
            assert admission.in_use == 0 and admission.waiting == 0
            # Nothing leaked: a full budget's request is admitted at once.
            kombo.answer.set()
            answered = await client.post("/graphql", json={"query": PAGE})
            assert answered.status_code == 200
            assert admission.in_use == 0

    run(scenario)
