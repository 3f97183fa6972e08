"""Graceful shutdown: a gateway asked to stop mid-request finishes it; /readyz fails first."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx

from tests.support.clients import Sandbox
from tests.support.servers import free_port, gateway_env, start_server

QUERY = "{ interviews(first: 3) { nodes { id } } }"


def wait_for(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until true (synchronising on observable state, not on time)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_gateway_asked_to_stop_mid_request_finishes_it_and_drains_first(
    sandbox: Sandbox, server_logs: Path
) -> None:
    port = free_port()
    env = gateway_env(sandbox.url, port, GATEWAY_DRAIN_SECONDS="1", GATEWAY_SHUTDOWN_GRACE="20")
    log = server_logs / "gateway-lifecycle.log"
    # start_server, not serve_gateway: the test signals the process itself.
    with start_server(["serve"], env, "/readyz", port, log) as server:
        process, url = server.process, server.url
        # The upstream answers this one request slowly: it is in flight when the stop comes.
        sandbox.fault(delay=2.5)
        result: dict[str, httpx.Response] = {}

        def slow_query() -> None:
            result["response"] = httpx.post(url + "/graphql", json={"query": QUERY}, timeout=30)

        worker = threading.Thread(target=slow_query)
        worker.start()
        wait_for(lambda: len(sandbox.requests()) == 1)  # the request reached the upstream

        process.send_signal(signal.SIGTERM)
        wait_for(lambda: httpx.get(url + "/readyz").status_code == 503)  # draining, still up
        assert httpx.get(url + "/healthz").status_code == 200

        worker.join(timeout=30)
        response = result["response"]
        assert response.status_code == 200
        assert len(response.json()["data"]["interviews"]["nodes"]) == 3
        # uvicorn re-raises the signal it captured once shutdown is complete.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
    text = log.read_text()
    assert "draining" in text
    assert "Application shutdown complete" in text, "the lifespan closed the upstream client"
