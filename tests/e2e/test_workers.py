"""``serve --workers 2``: the supervisor deals connections to the workers in turn, and a killed
worker's share is served by its replacement (``gateway.http.workers``).

What each worker holds is read where an operator reads it: ``kombo_gateway_http_connections``,
one series per worker's pid, in ``/metrics``.
"""

from __future__ import annotations

import http.client
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bench.live import metric_samples
from tests.support.servers import serve_gateway


def connections_by_worker(url: str) -> dict[int, int]:
    """Each worker's open connections, this scrape's own included."""
    text = httpx.get(url + "/metrics", timeout=30).text
    samples = metric_samples(text, "kombo_gateway_http_connections")
    return {int(labels["pid"]): int(value) for labels, value in samples}


def wait_for(
    condition: str, probe: Callable[[], dict[int, int] | None], timeout: float = 60
) -> dict[int, int]:
    """Call ``probe`` (a scrape) until it gives counts; those counts."""
    deadline = time.monotonic() + timeout
    while True:
        counts = probe()
        if counts is not None:
            return counts
        assert time.monotonic() < deadline, f"never: {condition}"
        time.sleep(0.05)


def kept_alive(url: str, count: int, stack: ExitStack) -> list[http.client.HTTPConnection]:
    """``count`` connections opened one after another, each answering a request and kept."""
    parts = urlsplit(url)
    connections = []
    for _ in range(count):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        stack.callback(connection.close)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert response.status == 200
        response.read()
        connections.append(connection)
    return connections


@pytest.fixture
def two_workers(sandbox_url: str, server_logs: Path) -> Iterator[tuple[str, Path]]:
    log = server_logs / "gateway-dealt-workers.log"
    with serve_gateway(sandbox_url, log, "--workers", "2") as url:
        # Ready means one worker answers; the other may still be importing on a loaded machine.
        wait_for(
            "both workers serve",
            lambda: counts if len(counts := connections_by_worker(url)) == 2 else None,
        )
        yield url, log


def test_kept_alive_connections_are_spread_evenly_over_the_workers(
    two_workers: tuple[str, Path],
) -> None:
    url, _ = two_workers
    with ExitStack() as stack:
        kept_alive(url, 20, stack)
        # Connections of earlier scrapes and readiness probes may not be seen closed yet.
        counts = wait_for(
            "20 kept connections and the scrape's",
            lambda: c if sum((c := connections_by_worker(url)).values()) == 21 else None,
        )
        # uvicorn's own workers race to accept: one after another, all 21 went to one worker.
        assert sorted(counts.values()) == [10, 11]


def test_a_killed_workers_connections_are_served_by_its_replacement(
    two_workers: tuple[str, Path],
) -> None:
    url, log = two_workers
    killed, survivor = sorted(connections_by_worker(url))
    os.kill(killed, signal.SIGKILL)
    with ExitStack() as stack:
        # Half of these are dealt to the killed worker's queue: its replacement answers them.
        for connection in kept_alive(url, 6, stack):
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
    counts = wait_for(
        "the replacement in the metrics, the killed worker gone from them",
        lambda: c if len(c := connections_by_worker(url)) == 2 and killed not in c else None,
    )
    assert survivor in counts
    assert f"worker [{killed}] died" in log.read_text()
