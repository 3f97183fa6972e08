"""Retries, deadlines, the in-flight bound and request coalescing of the Kombo client, over
httpx.MockTransport: what is retried (by Kombo's code) and what never is, how long it waits,
when it stops, and how identical calls share one request."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from gateway.kombo import (
    Deadline,
    KomboAPIError,
    KomboClient,
    KomboConfig,
    KomboConnectionError,
    KomboDeadlineExceeded,
    KomboMalformedResponse,
    KomboRetriesExhausted,
    KomboServerError,
    KomboTimeout,
    ListQuery,
    Page,
    RetryPolicy,
)
from gateway.kombo.catalog import CATALOG
from gateway.kombo.errors import KomboUnavailable
from gateway.kombo.limits import InFlightLimiter
from gateway.kombo.retry import RETRYABLE_CODES, is_retryable, requested_wait
from gateway.kombo.sender import Sender
from gateway.observability.logs import TextFormatter
from gateway.observability.request_id import set_request_id
from tests.support.kombo_bodies import KOMBO_ERROR_CODES, kombo_error_body

pytestmark = pytest.mark.anyio

INTEGRATION = "workday:HWUTwvyx2wLoSUHphiWVrp28"
INTERVIEWS = CATALOG["Interview"]
BASE_URL = "https://api.kombo.dev/v1"
PAGE = {"status": "success", "data": {"next": None, "results": []}}
LOG_URL = "https://app.kombo.dev/my-prod/logs?interactionId=42"
# The four codes retried (Kombo's "not now"), and the spec's others, never retried (with null).
RETRIED_CODES = {
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
    "REMOTE.RATE_LIMIT_EXCEEDED",
    "REMOTE.SERVICE_UNAVAILABLE",
}
FINAL_CODES = [code for code in KOMBO_ERROR_CODES if code not in RETRIED_CODES] + [None]

Answer = httpx.Response | type[httpx.TransportError]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def kombo_error(status: int, code: str | None, headers: dict[str, str] | None = None) -> Any:
    body = kombo_error_body(code, f"T {code}", f"M {code}", LOG_URL)
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """A MockTransport handler answering from a list (the last answer repeats), keeping every
    request and the times they arrived."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(time.monotonic())
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        if isinstance(answer, httpx.Response):
            return answer
        raise answer("simulated", request=request)


class Sleeps:
    """A stand-in for asyncio.sleep that records what the client waited."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def client_for(
    handler: Callable[[httpx.Request], Any],
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    per_integration: int = 8,
    total_timeout: float = 20.0,
) -> KomboClient:
    return KomboClient(
        Sender(httpx.MockTransport(handler), BASE_URL),
        total_timeout=total_timeout,
        retry=retry or RetryPolicy(base_delay=0.0, max_delay=1.0),
        max_in_flight_per_integration=per_integration,
        sleep=sleep or asyncio.sleep,
    )


async def list_page(
    client: KomboClient,
    page_size: int = 10,
    deadline: Deadline | None = None,
    integration: str = INTEGRATION,
) -> Page:
    return await client.list_records(
        integration, ListQuery.of(INTERVIEWS, {}), page_size=page_size, deadline=deadline
    )


# --- what is retried -----------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(RETRYABLE_CODES))
async def test_each_retryable_code_is_retried_until_success(code: str) -> None:
    script = Script(kombo_error(429, code), httpx.Response(200, json=PAGE))
    page = await list_page(client_for(script))
    assert page == Page("/ats/interviews", results=(), next=None)
    assert len(script.requests) == 2


@pytest.mark.parametrize("code", FINAL_CODES)
@pytest.mark.parametrize("status", [400, 429, 503])
async def test_every_other_code_is_final_after_exactly_one_request(
    code: str | None, status: int
) -> None:
    """Kombo says: branch on the code, not the status (a 429 or 503 with a final code is final)."""
    script = Script(kombo_error(status, code), httpx.Response(200, json=PAGE))
    with pytest.raises(KomboAPIError) as caught:
        await list_page(client_for(script))
    assert caught.value.code == code
    assert len(script.requests) == 1


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_a_bodyless_502_503_504_is_retried(status: int) -> None:
    script = Script(
        httpx.Response(status, text="<html>proxy</html>"), httpx.Response(200, json=PAGE)
    )
    await list_page(client_for(script))
    assert len(script.requests) == 2


async def test_a_bodyless_500_is_final() -> None:
    script = Script(httpx.Response(500, text=""), httpx.Response(200, json=PAGE))
    with pytest.raises(KomboServerError):
        await list_page(client_for(script))
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "exc_type",
    [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ConnectTimeout, httpx.ReadTimeout],
)
async def test_connection_errors_and_timeouts_are_retried(
    exc_type: type[httpx.TransportError],
) -> None:
    """GET is idempotent: a read timeout (maybe processed upstream) is safe to retry."""
    script = Script(exc_type, httpx.Response(200, json=PAGE))
    await list_page(client_for(script))
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    "body", [b"<html>", b'{"status": "success"}', b'{"status": "success", "data": {"results": 1}}']
)
async def test_a_malformed_success_is_final_and_logged_with_the_request_id(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    script = Script(httpx.Response(200, content=body), httpx.Response(200, json=PAGE))
    set_request_id("req-malformed-1")
    with (
        caplog.at_level(logging.WARNING, logger="gateway.kombo.client"),
        pytest.raises(KomboMalformedResponse),
    ):
        await list_page(client_for(script))
    assert len(script.requests) == 1
    [record] = [r for r in caplog.records if "malformed" in r.getMessage()]
    # kombo/ knows nothing of requests: the gateway's formatter names the one being served.
    assert "request_id=req-malformed-1" in TextFormatter().format(record)


def test_is_retryable_names_exactly_the_four_codes() -> None:
    assert RETRIED_CODES == RETRYABLE_CODES
    assert not is_retryable(KomboMalformedResponse("x"))
    assert not is_retryable(KomboUnavailable("x"))
    assert is_retryable(KomboServerError("x", status=503))
    assert not is_retryable(KomboServerError("x", status=501))


# --- how long it waits ---------------------------------------------------------------------


async def test_two_429s_with_retry_after_then_success_waits_at_least_retry_after() -> None:
    script = Script(
        kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", {"Retry-After": "1"}),
        kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", {"Retry-After": "1"}),
        httpx.Response(200, json=PAGE),
    )
    sleeps = Sleeps()
    page = await list_page(client_for(script, sleep=sleeps))
    assert page.results == ()
    assert len(script.requests) == 3
    assert len(sleeps.waits) == 2
    assert all(1.0 <= wait <= 1.0 + 0.01 * 4 for wait in sleeps.waits), sleeps.waits


async def test_ratelimit_reset_is_honoured_like_retry_after() -> None:
    script = Script(
        kombo_error(429, "REMOTE.RATE_LIMIT_EXCEEDED", {"ratelimit-reset": "0.7"}),
        httpx.Response(200, json=PAGE),
    )
    sleeps = Sleeps()
    await list_page(client_for(script, sleep=sleeps))
    assert sleeps.waits[0] >= 0.7


async def test_real_waits_respect_retry_after_measured() -> None:
    script = Script(
        kombo_error(503, "REMOTE.SERVICE_UNAVAILABLE", {"Retry-After": "0.3"}),
        httpx.Response(200, json=PAGE),
    )
    await list_page(client_for(script))
    assert script.times[1] - script.times[0] >= 0.3


async def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    ceilings: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        ceilings.append((low, high))
        return high

    policy = RetryPolicy(max_retries=5, base_delay=0.5, max_delay=3.0, uniform=uniform)
    assert [policy.backoff(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    # Full jitter: each wait is drawn between 0 and the doubled, capped ceiling.
    assert ceilings == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]


async def test_without_retry_after_the_waits_are_the_jittered_backoff() -> None:
    policy = RetryPolicy(max_retries=3, base_delay=0.1, max_delay=5, uniform=lambda a, b: b)
    script = Script(httpx.Response(502), httpx.Response(502), httpx.Response(200, json=PAGE))
    sleeps = Sleeps()
    await list_page(client_for(script, retry=policy, sleep=sleeps))
    assert sleeps.waits == [0.1, 0.2]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": " 1.5 "}, 1.5),
        ({"Retry-After": "0"}, 0.0),
        ({"ratelimit-reset": "3"}, 3.0),
        ({"Retry-After": "1", "RateLimit-Reset": "4"}, 4.0),
        ({"Retry-After": "-3"}, None),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
)
def test_requested_wait_reads_seconds(headers: dict[str, str], expected: float | None) -> None:
    assert requested_wait(headers, now=1_700_000_000.0) == expected


def test_requested_wait_reads_http_dates_and_unix_times() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    earlier = format_datetime(now - timedelta(seconds=7), usegmt=True)
    ts = now.timestamp()
    assert requested_wait({"Retry-After": later}, now=ts) == pytest.approx(7)
    assert requested_wait({"Retry-After": earlier}, now=ts) == 0.0
    assert requested_wait({"ratelimit-reset": str(int(ts) + 5)}, now=ts) == pytest.approx(5)
    assert requested_wait(httpx.Headers({"RETRY-AFTER": "2"}), now=ts) == 2.0


# --- when it stops -------------------------------------------------------------------------


async def test_retries_used_up_keep_kombos_code_title_log_url_and_status() -> None:
    script = Script(kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED"))
    with pytest.raises(KomboRetriesExhausted) as caught:
        await list_page(client_for(script, retry=RetryPolicy(max_retries=3, base_delay=0.001)))
    error = caught.value
    assert len(script.requests) == 4
    assert error.attempts == 4
    assert (error.code, error.status, error.log_url) == (
        "PLATFORM.RATE_LIMIT_EXCEEDED",
        429,
        LOG_URL,
    )
    assert error.title == "T PLATFORM.RATE_LIMIT_EXCEEDED"
    assert isinstance(error, KomboUnavailable)
    assert "retries used up" in str(error)


async def test_retries_used_up_on_bodyless_502s_raise_the_last_failure() -> None:
    script = Script(httpx.Response(502))
    with pytest.raises(KomboServerError) as caught:
        await list_page(client_for(script, retry=RetryPolicy(max_retries=2, base_delay=0.001)))
    assert caught.value.attempts == 3
    assert len(script.requests) == 3


async def test_a_retry_after_beyond_the_cap_stops_at_once() -> None:
    script = Script(kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", {"Retry-After": "30"}))
    sleeps = Sleeps()
    with pytest.raises(KomboRetriesExhausted, match="more than the 5 s cap") as caught:
        await list_page(client_for(script, retry=RetryPolicy(max_delay=5), sleep=sleeps))
    assert caught.value.attempts == 1
    assert sleeps.waits == []


async def test_a_wait_that_does_not_fit_the_deadline_stops_at_once() -> None:
    script = Script(kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", {"Retry-After": "1"}))
    started = time.monotonic()
    with pytest.raises(KomboRetriesExhausted, match="would not fit"):
        await list_page(client_for(script), deadline=Deadline.after(0.5))
    assert time.monotonic() - started < 0.3
    assert len(script.requests) == 1


async def test_a_hang_fails_at_the_deadline_and_the_next_call_succeeds() -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(30)
        return httpx.Response(200, json=PAGE)

    client = client_for(handler)
    started = time.monotonic()
    with pytest.raises(KomboDeadlineExceeded, match=r"0\.3 s deadline"):
        await list_page(client, deadline=Deadline.after(0.3))
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 0.5
    assert isinstance(KomboDeadlineExceeded("x"), KomboTimeout)
    assert (await list_page(client, deadline=Deadline.after(0.3))).results == ()


async def test_an_expired_deadline_makes_no_request() -> None:
    script = Script(httpx.Response(200, json=PAGE))
    with pytest.raises(KomboDeadlineExceeded):
        await list_page(client_for(script), deadline=Deadline.after(-1))
    assert script.requests == []


async def test_the_per_attempt_total_timeout_still_bounds_each_attempt() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json=PAGE)

    client = client_for(handler, retry=RetryPolicy.never(), total_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(KomboTimeout, match=r"within 0\.2s"):
        await list_page(client, deadline=Deadline.after(10))
    assert time.monotonic() - started < 1


# --- the in-flight bound -------------------------------------------------------------------


class Gate:
    """An async handler that holds every request until released, counting those in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.in_flight = 0
        self.peak = 0
        self.requests: list[httpx.Request] = []
        self.cancelled = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        return httpx.Response(200, json=PAGE)

    async def until(self, requests: int) -> None:
        while len(self.requests) < requests:
            await asyncio.sleep(0.001)


async def eventually(condition: Callable[[], bool], timeout: float = 2.0) -> None:
    """Let the loop run until ``condition()`` holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.001)


def waiters(client: KomboClient) -> int:
    """Callers waiting on the client's shared page calls now (its coalescer's flights)."""
    return sum(flight.waiters for flight, _ in client._pages._flights.values())


async def test_at_most_n_requests_of_one_integration_are_in_flight() -> None:
    gate = Gate()
    client = client_for(gate, per_integration=3)
    calls = [asyncio.create_task(list_page(client, page_size=n)) for n in range(1, 11)]
    other = asyncio.create_task(list_page(client, integration="greenhouse:other"))
    await gate.until(4)  # three of the first integration, and the other one unblocked
    await asyncio.sleep(0.05)
    assert gate.peak == 4
    assert [r.headers["X-Integration-Id"] for r in gate.requests].count("greenhouse:other") == 1
    gate.release.set()
    await asyncio.gather(*calls, other)
    assert len(gate.requests) == 11
    assert gate.peak == 4


async def test_waiting_for_a_slot_is_bounded_by_the_deadline() -> None:
    gate = Gate()
    client = client_for(gate, per_integration=1)
    holder = asyncio.create_task(list_page(client, page_size=1))
    await gate.until(1)
    started = time.monotonic()
    with pytest.raises(KomboDeadlineExceeded):
        await list_page(client, page_size=2, deadline=Deadline.after(0.2))
    assert time.monotonic() - started < 0.4
    gate.release.set()
    await holder
    assert len(gate.requests) == 1  # the one that timed out never went upstream


async def test_the_limiter_forgets_integrations_with_nothing_in_flight() -> None:
    limiter = InFlightLimiter(2)
    for n in range(1000):
        async with limiter.slot(f"tool:{n}"):
            assert limiter.in_flight(f"tool:{n}") == 1
    assert limiter.tracked() == 0


# --- coalescing ----------------------------------------------------------------------------


async def test_identical_concurrent_calls_make_one_request_and_share_the_page() -> None:
    gate = Gate()
    client = client_for(gate)
    calls = [asyncio.create_task(list_page(client)) for _ in range(10)]
    await gate.until(1)
    await eventually(lambda: waiters(client) == 10)
    gate.release.set()
    pages = await asyncio.gather(*calls)
    assert len(gate.requests) == 1
    assert all(page is pages[0] for page in pages)


async def test_calls_differing_in_any_parameter_are_not_coalesced() -> None:
    gate = Gate()
    client = client_for(gate)
    calls = [
        asyncio.create_task(list_page(client, page_size=5)),
        asyncio.create_task(list_page(client, page_size=6)),
        asyncio.create_task(list_page(client, page_size=5, integration="greenhouse:other")),
        asyncio.create_task(
            client.list_records(INTEGRATION, ListQuery.of(INTERVIEWS, {}), page_size=5, cursor="c")
        ),
    ]
    await gate.until(4)
    gate.release.set()
    await asyncio.gather(*calls)
    assert len(gate.requests) == 4


async def test_nothing_is_kept_after_completion() -> None:
    script = Script(httpx.Response(200, json=PAGE))
    client = client_for(script)
    await list_page(client)
    await list_page(client)
    assert len(script.requests) == 2


async def test_an_error_is_shared_by_every_waiter() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return kombo_error(403, "INTEGRATION.PERMISSION_MISSING")

    calls = 0

    def counting(request: httpx.Request) -> Awaitable[httpx.Response]:
        nonlocal calls
        calls += 1
        return handler(request)

    client = client_for(counting)
    results = await asyncio.gather(*(list_page(client) for _ in range(5)), return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, KomboAPIError) for r in results)
    assert {r.code for r in results if isinstance(r, KomboAPIError)} == {
        "INTEGRATION.PERMISSION_MISSING"
    }


async def test_a_cancelled_waiter_does_not_cancel_the_shared_call() -> None:
    gate = Gate()
    client = client_for(gate)
    first = asyncio.create_task(list_page(client))
    others = [asyncio.create_task(list_page(client)) for _ in range(3)]
    await gate.until(1)
    assert waiters(client) == 4
    first.cancel()
    await asyncio.wait([first])
    assert first.cancelled()
    assert waiters(client) == 3
    gate.release.set()
    pages = await asyncio.gather(*others)
    assert len(pages) == 3
    assert len(gate.requests) == 1
    assert gate.cancelled == 0


async def test_a_waiter_past_its_deadline_leaves_the_others_waiting() -> None:
    gate = Gate()
    client = client_for(gate)
    hasty = asyncio.create_task(list_page(client, deadline=Deadline.after(0.1)))
    patient = asyncio.create_task(list_page(client, deadline=Deadline.after(5)))
    with pytest.raises(KomboDeadlineExceeded):
        await hasty
    gate.release.set()
    assert (await patient).results == ()
    assert len(gate.requests) == 1


async def test_when_every_waiter_has_left_the_upstream_request_is_cancelled() -> None:
    gate = Gate()
    client = client_for(gate)
    calls = [asyncio.create_task(list_page(client)) for _ in range(3)]
    await gate.until(1)
    for call in calls:
        call.cancel()
    await asyncio.gather(*calls, return_exceptions=True)
    await eventually(lambda: gate.in_flight == 0)  # the upstream request has ended ...
    assert gate.cancelled == 1  # ... cancelled, not answered
    # and the next identical call goes upstream afresh
    gate.release.set()
    await list_page(client)
    assert len(gate.requests) == 2


async def test_retries_plan_their_waits_by_the_most_patient_waiter() -> None:
    """A joiner with more time lets the shared call wait for a Retry-After the first could not."""
    arrived = asyncio.Event()
    answer = asyncio.Event()
    answers = [
        kombo_error(429, "PLATFORM.RATE_LIMIT_EXCEEDED", {"Retry-After": "0.3"}),
        httpx.Response(200, json=PAGE),
    ]
    seen = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen == 1:
            arrived.set()
            await answer.wait()
        return answers[min(seen, 2) - 1]

    client = client_for(handler)
    hasty = asyncio.create_task(list_page(client, deadline=Deadline.after(0.2)))
    await asyncio.wait_for(arrived.wait(), 1)  # hasty's call is upstream ...
    patient = asyncio.create_task(list_page(client, deadline=Deadline.after(5)))
    await eventually(lambda: waiters(client) == 2)  # ... and patient has joined it
    answer.set()
    assert (await patient).results == ()
    with pytest.raises(KomboDeadlineExceeded):
        await hasty
    assert seen == 2


async def test_the_client_from_config_retries_with_its_policy() -> None:
    script = Script(httpx.Response(503), httpx.Response(200, json=PAGE))
    client = KomboClient.open(
        KomboConfig(
            api_key="k",
            base_url=BASE_URL,
            retry=RetryPolicy(base_delay=0.001),
            transport=httpx.MockTransport(script),
        )
    )
    try:
        await list_page(client)
    finally:
        await client.aclose()
    assert len(script.requests) == 2
    with pytest.raises(KomboServerError):
        client_never = KomboClient.open(
            KomboConfig(
                api_key="k",
                base_url=BASE_URL,
                retry=RetryPolicy.never(),
                transport=httpx.MockTransport(Script(httpx.Response(503))),
            )
        )
        await list_page(client_never)


def test_the_connection_error_type_is_kept_when_retries_are_used_up() -> None:
    async def run() -> None:
        script = Script(httpx.ConnectError)
        with pytest.raises(KomboConnectionError) as caught:
            await list_page(client_for(script, retry=RetryPolicy(max_retries=1, base_delay=0)))
        assert caught.value.attempts == 2

    asyncio.run(run())
