"""Kombo's bad days over real HTTP: rate limits, 5xx, hangs, garbage, concurrency limits.

Every test runs real processes: a gateway started with a short deadline and sub-second backoffs
(so the suite stays fast), in front of the sandbox upstream whose fault queue plays Kombo's part.
The promises (README "Resilience"): retryable answers are retried after at least the wait Kombo
asks for; a hang fails at the deadline and the gateway keeps serving; a malformed body is
UPSTREAM_UNAVAILABLE; final codes are never retried; a tenant's burst stays within its in-flight
bound; identical queries in flight at once cost one upstream call.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.clients import Gateway, Sandbox
from tests.support.kombo_bodies import kombo_error_body
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, ROOT, free_port, run_server, serve_gateway

DEADLINE = 2.5  # GATEWAY_REQUEST_TIMEOUT of the gateway under test
HANG = DEADLINE + 1.5  # a late answer; short, so that the sandbox can stop soon after
RETRIES = 3
MARGIN = 0.75  # process, HTTP and scheduling overhead allowed beyond a deadline
LIST = "query($first: Int) { interviews(first: $first) { nodes { id } } }"
RATE_LIMITED = kombo_error_body(
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "Rate limit exceeded.",
    "You have exceeded the rate limit.",
    "https://app.kombo.dev/my-prod/logs?interactionId=777",
)
# The gateways under test: the short deadline and the fast backoffs.
RESILIENCE = {
    "GATEWAY_REQUEST_TIMEOUT": str(DEADLINE),
    "GATEWAY_UPSTREAM_RETRIES": str(RETRIES),
    "GATEWAY_RETRY_BASE_DELAY": "0.05",
    "GATEWAY_RETRY_MAX_DELAY": "1.5",
}


@pytest.fixture(scope="module")
def resilient(sandbox_url: str, server_logs: Path) -> Iterator[Gateway]:
    """A gateway with a 2.5 s deadline and fast backoffs, on the session's sandbox."""
    log = server_logs / "gateway-resilience.log"
    with serve_gateway(sandbox_url, log, **RESILIENCE) as url:
        yield Gateway(url, secrets=(API_KEY,))


@pytest.fixture(scope="module")
def limited_sandbox(server_logs: Path) -> Iterator[Sandbox]:
    """A sandbox allowing 4 requests in flight (429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED beyond),
    each answer 50 ms late so that concurrent requests overlap."""
    port = free_port()
    args = ["sandbox", "--port", str(port), "--api-key", API_KEY]
    args += ["--max-in-flight", "4", "--latency", "0.05"]
    with run_server(args, {}, "/healthz", port, server_logs / "sandbox-limited.log") as url:
        yield Sandbox(url)


@pytest.fixture(scope="module")
def bounded(limited_sandbox: Sandbox, server_logs: Path) -> Iterator[Gateway]:
    """A gateway allowed 4 upstream requests in flight per integration, on the limited sandbox."""
    log = server_logs / "gateway-bounded.log"
    with serve_gateway(
        limited_sandbox.url, log, **RESILIENCE, GATEWAY_UPSTREAM_CONCURRENCY="4"
    ) as url:
        yield Gateway(url, secrets=(API_KEY,))


def timed(
    gateway: Gateway, variables: dict[str, Any] | None = None, **kw: Any
) -> tuple[Any, float]:
    started = time.monotonic()
    body = gateway.post(LIST, variables or {"first": 3}, **kw).json()
    return body, time.monotonic() - started


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def stats(sandbox: Sandbox) -> dict[str, Any]:
    return dict(httpx.get(sandbox.url + "/__sandbox/stats").json())


# --- rate limits -----------------------------------------------------------------------------


def test_two_429s_with_retry_after_then_success_succeeds_after_the_waits(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"Retry-After": "1"}, times=2)
    body, elapsed = timed(resilient)
    assert "errors" not in body, body
    assert len(body["data"]["interviews"]["nodes"]) == 3
    assert len(sandbox.requests()) == 3
    assert elapsed >= 2.0, f"Retry-After: 1, twice, yet answered in {elapsed:.2f} s"
    assert elapsed < DEADLINE


def test_kombos_ratelimit_reset_header_is_respected_too(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"ratelimit-reset": "1"})
    body, elapsed = timed(resilient)
    assert "errors" not in body, body
    assert elapsed >= 1.0
    assert len(sandbox.requests()) == 2


def test_retries_used_up_are_upstream_unavailable_keeping_kombos_code(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, times=RETRIES + 5)
    body, elapsed = timed(resilient)
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "upstreamCode": "PLATFORM.RATE_LIMIT_EXCEEDED",
        "title": "Rate limit exceeded.",
        "logUrl": "https://app.kombo.dev/my-prod/logs?interactionId=777",
        "status": 429,
    }
    assert body["data"] is None
    assert len(sandbox.requests()) == RETRIES + 1
    assert elapsed < DEADLINE


def test_a_retry_after_longer_than_the_deadline_fails_at_once(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"Retry-After": "60"}, times=5)
    body, elapsed = timed(resilient)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["extensions"]["upstreamCode"] == "PLATFORM.RATE_LIMIT_EXCEEDED"
    assert len(sandbox.requests()) == 1
    assert elapsed < 0.5


def test_a_final_code_is_never_retried(resilient: Gateway, sandbox: Sandbox) -> None:
    final = {
        "status": "error",
        "error": {
            "code": "INTEGRATION.MODEL_NOT_AVAILABLE",
            "title": "Not available.",
            "message": "Interviews are not available for this integration.",
            "log_url": None,
        },
    }
    sandbox.fault(status=429, body=final, headers={"Retry-After": "1"}, times=5)
    body, elapsed = timed(resilient)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
    assert len(sandbox.requests()) == 1
    assert elapsed < 0.5


# --- 5xx, garbage, hangs ---------------------------------------------------------------------


def test_a_502_without_a_body_is_retried(resilient: Gateway, sandbox: Sandbox) -> None:
    sandbox.fault(status=502, raw="<html>Bad gateway</html>", headers={"Content-Type": "text/html"})
    body, _ = timed(resilient)
    assert "errors" not in body, body
    assert len(sandbox.requests()) == 2


def test_a_malformed_body_is_upstream_unavailable_and_logged_with_the_request_id(
    resilient: Gateway, sandbox: Sandbox, server_logs: Path
) -> None:
    sandbox.fault(status=200, raw='{"status": "success", "data": {"next": nu')
    request_id = "resilience-" + uuid.uuid4().hex
    body, _ = timed(resilient, headers={"X-Request-Id": request_id})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE"}
    assert "not JSON" in error["message"]
    assert len(sandbox.requests()) == 1
    log = server_logs / "gateway-resilience.log"
    wait_for(lambda: request_id in log.read_text())
    # The request's own lines (its upstream call, its summary) carry the id too: one of them
    # says what was wrong with the answer.
    lines = [line for line in log.read_text().splitlines() if request_id in line]
    assert any("malformed" in line for line in lines), lines


def test_a_hang_fails_at_the_deadline_and_the_next_query_succeeds(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(delay=HANG)  # the real answer, too late
    body, elapsed = timed(resilient)
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "UPSTREAM_UNAVAILABLE"}
    assert f"{DEADLINE:g} s deadline" in error["message"]
    assert DEADLINE <= elapsed < DEADLINE + MARGIN, elapsed
    assert len(sandbox.requests()) == 1

    body, elapsed = timed(resilient)
    assert "errors" not in body, body
    assert elapsed < 1


def test_id_lookups_are_bounded_by_the_deadline_too(resilient: Gateway, sandbox: Sandbox) -> None:
    sandbox.fault(delay=HANG)
    started = time.monotonic()
    body = resilient.post('{ a: interview(id: "x1") { id } b: interview(id: "x2") { id } }').json()
    elapsed = time.monotonic() - started
    assert body["data"] == {"a": None, "b": None}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UPSTREAM_UNAVAILABLE"}
    assert elapsed < DEADLINE + MARGIN
    assert len(sandbox.requests()) == 1


# --- concurrency -----------------------------------------------------------------------------


async def post_all(url: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return list(await asyncio.gather(*(http.post("/graphql", json=b) for b in bodies)))


def test_the_sandbox_refuses_requests_beyond_its_in_flight_limit(
    limited_sandbox: Sandbox,
) -> None:
    limited_sandbox.clear()
    limited_sandbox.fault(delay=1.0, times=4)
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": DEFAULT_INTEGRATION}

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        async with httpx.AsyncClient(base_url=limited_sandbox.api_url, headers=headers) as http:
            held = [asyncio.create_task(http.get("/ats/interviews")) for _ in range(4)]
            while stats(limited_sandbox)["in_flight"] < 4:
                await asyncio.sleep(0.01)
            refused = await http.get("/ats/interviews")
            return list(await asyncio.gather(*held)), refused

    held, refused = asyncio.run(scenario())
    assert [r.status_code for r in held] == [200] * 4
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    assert stats(limited_sandbox)["refused_over_limit"] == 1


def test_30_concurrent_queries_against_a_sandbox_allowing_4_in_flight_all_succeed(
    bounded: Gateway, limited_sandbox: Sandbox
) -> None:
    limited_sandbox.clear()
    # 30 different upstream requests (page sizes 1..30), so that none is coalesced.
    bodies = [{"query": LIST, "variables": {"first": n}} for n in range(1, 31)]
    responses = asyncio.run(post_all(bounded.url, bodies))
    for n, response in enumerate(responses, start=1):
        body = response.json()
        assert "errors" not in body, body
        assert len(body["data"]["interviews"]["nodes"]) == n
    counts = stats(limited_sandbox)
    assert counts["refused_over_limit"] == 0
    assert counts["peak_in_flight"] == 4  # the gateway's bound, reached and never exceeded
    assert len(limited_sandbox.requests()) == 30


def test_10_identical_concurrent_queries_cost_one_upstream_call(
    resilient: Gateway, sandbox: Sandbox
) -> None:
    sandbox.fault(delay=1.0)  # the first upstream request is answered 1 s late
    body = {"query": LIST, "variables": {"first": 7}}

    async def scenario() -> list[httpx.Response]:
        first = asyncio.create_task(post_all(resilient.url, [body]))
        while not await asyncio.to_thread(sandbox.requests):  # the upstream call is in flight
            await asyncio.sleep(0.01)
        rest = await post_all(resilient.url, [body] * 9)
        return (await first) + rest

    responses = asyncio.run(scenario())
    results = [r.json() for r in responses]
    assert all("errors" not in r for r in results), results
    assert all(r == results[0] for r in results)
    assert len(sandbox.requests()) == 1
    # and nothing is cached: the next identical query goes upstream again
    resilient.query(LIST, {"first": 7})
    assert len(sandbox.requests()) == 2


# --- trying failures with `make run` ---------------------------------------------------------


def test_sandbox_faults_play_a_flaky_kombo_behind_make_run(server_logs: Path) -> None:
    """``SANDBOX_FAULTS=flaky``: every 2nd upstream request is a bodyless 502, retried."""
    port = free_port()
    env = {
        "KOMBO_API_KEY": "",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SANDBOX_FAULTS": "flaky",
        "GATEWAY_RETRY_BASE_DELAY": "0.01",
    }
    log = server_logs / "gateway-sandbox-faults.log"
    with run_server(["serve"], env, "/readyz", port, log) as url:
        gateway = Gateway(url)
        for first in (1, 2, 3, 4):
            nodes = gateway.query(LIST, {"first": first})["interviews"]["nodes"]
            assert len(nodes) == first
    assert "502" in log.read_text(), "the retried 502s are logged"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SANDBOX_FAULTS": "rate-limit,nope"}, "SANDBOX_FAULTS: unknown scenario(s) nope"),
        (
            {"SANDBOX_FAULTS": "flaky", "KOMBO_API_KEY": "real-key"},
            "SANDBOX_FAULTS applies to the embedded sandbox only",
        ),
        ({"GATEWAY_REQUEST_TIMEOUT": "0"}, "GATEWAY_REQUEST_TIMEOUT must be"),
        ({"GATEWAY_REQUEST_TIMEOUT": "soon"}, "GATEWAY_REQUEST_TIMEOUT must be"),
        ({"GATEWAY_UPSTREAM_CONCURRENCY": "0"}, "GATEWAY_UPSTREAM_CONCURRENCY must be"),
        ({"GATEWAY_UPSTREAM_CONCURRENCY": "2.5"}, "GATEWAY_UPSTREAM_CONCURRENCY must be"),
        ({"GATEWAY_UPSTREAM_RETRIES": "-1"}, "GATEWAY_UPSTREAM_RETRIES must be"),
        ({"GATEWAY_RETRY_MAX_DELAY": "inf"}, "GATEWAY_RETRY_MAX_DELAY must be"),
    ],
)
def test_a_wrong_resilience_setting_stops_serve_with_a_message_naming_it(
    env: dict[str, str], says: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=ROOT,
        env={**os.environ, "KOMBO_API_KEY": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_the_sandbox_command_refuses_an_unknown_scenario() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "sandbox", "--faults", "meteor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown fault scenario(s) meteor" in result.stderr
