"""Memory under concurrent requests within every documented limit (issue 8, finding 4).

    PYTHONPATH=. python -m bench.hostile.memory [--rounds 1,16,32] [--env NAME=VALUE ...]

Starts the sandbox upstream and a gateway on loopback, each its own process, then sends rounds
of concurrent copies of :func:`wide_query`: 20 aliases of ``interviews(first: 250 - n)`` with
every field (estimated cost 4,810 interviews, 20 upstream calls, a ~7 MB answer; within every
default query limit). Each copy has its own ``updatedAfter`` far in the past, so no two upstream
calls coalesce and each request does all its work. Per round it prints the gateway's peak RSS
(``VmHWM`` from ``/proc/<pid>/status``, reset before the round, and 20 ms samples of
``VmRSS``), the RSS retained after the round, the slowest ``/healthz`` seen meanwhile (polled
every 50 ms), and the requests' slowest and median times and HTTP statuses.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.procfs import PeakRss, cpu_seconds
from bench.scenarios import INTERVIEW_ALL_FIELDS
from bench.servers import Server, free_port, run_server

__all__ = ["ALIASES", "WIDE_COST", "rss_mib", "run_stack", "wide_query", "wide_variables"]

ALIASES = 20
WIDE_COST = sum(250 - n for n in range(ALIASES))  # 4,810 interviews, the cost estimate
_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def wide_query(aliases: int = ALIASES) -> str:
    """``aliases`` connections of ``first: 250 - n`` (each its own upstream page size, so they
    never coalesce with each other), every interview field, edges' cursors and page info."""
    fields = "\n".join(
        f"  a{n}: interviews(first: {250 - n}, filter: $filter) {{\n"
        f"    edges {{ cursor node {{{INTERVIEW_ALL_FIELDS} }} }}\n"
        "    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }\n  }"
        for n in range(aliases)
    )
    return f"query Wide($filter: InterviewFilter) {{\n{fields}\n}}"


def wide_variables(copy: int) -> dict[str, Any]:
    """Copy ``copy``'s variables: an ``updatedAfter`` ``copy`` seconds after 2000-01-01, before
    every sandbox interview changed (the same data, but other upstream calls)."""
    instant = _LONG_AGO + timedelta(seconds=copy)
    return {"filter": {"updatedAfter": instant.isoformat()}}


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(key)


def rss_mib(pid: int) -> float:
    """The process's resident set now (``VmRSS``), in MiB."""
    return _status_kib(pid, "VmRSS") / 1024


@contextmanager
def run_stack(logs: Path, **gateway_env: str) -> Iterator[Server]:
    """The sandbox upstream (requiring a random API key) and a gateway reading it; yields the
    gateway once ready, stops both afterwards."""
    api_key = "probe-" + secrets.token_hex(8)
    with ExitStack() as stack:
        port = free_port()
        upstream = stack.enter_context(
            run_server(
                "sandbox",
                ["gateway", "sandbox", "--port", str(port), "--api-key", api_key],
                {},
                "/healthz",
                port,
                logs / "sandbox.log",
            )
        )
        port = free_port()
        env = {
            "KOMBO_API_KEY": api_key,
            "KOMBO_BASE_URL": upstream.url + "/v1",
            "KOMBO_INTEGRATION_ID": "sandbox:acme-corp",
            "HOST": "127.0.0.1",
            "PORT": str(port),
            **gateway_env,
        }
        yield stack.enter_context(
            run_server("gateway", ["gateway", "serve"], env, "/readyz", port, logs / "gw.log")
        )


class HealthPoller:
    """Polls ``/healthz`` every 50 ms in a thread while the block runs; ``slowest`` seconds."""

    def __init__(self, url: str) -> None:
        self.url = url + "/healthz"
        self.slowest = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.wait(0.05):
                started = time.perf_counter()
                try:
                    ok = client.get(self.url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.failures += not ok

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def send_round(
    url: str, concurrency: int, first_copy: int, timeout: float = 120
) -> list[tuple[int, float, dict[str, Any]]]:
    """``concurrency`` copies at once; (status, seconds, body) of each."""
    query = wide_query()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def one(copy: int) -> tuple[int, float, dict[str, Any]]:
            started = time.perf_counter()
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": wide_variables(copy)},
                headers={"Accept": "application/graphql-response+json"},
            )
            return response.status_code, time.perf_counter() - started, _outline(response)

        copies = range(first_copy, first_copy + concurrency)
        return list(await asyncio.gather(*(one(c) for c in copies)))


def _outline(response: httpx.Response) -> dict[str, Any]:
    """The answer's errors (parsed when small) or ``{"data": <bytes>}``: parsing 7 MB of JSON
    in this process would hold the GIL from the ``/healthz`` poller and inflate its figure."""
    if response.content.startswith(b'{"data"'):
        return {"data": len(response.content)}
    return dict(response.json())


def _summary(body: dict[str, Any]) -> str:
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code"))
    return "data"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", default="1,16,32", help="concurrent copies per round")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    rounds = [int(r) for r in args.rounds.split(",")]
    env = dict(item.split("=", 1) for item in args.env)
    logs = Path(tempfile.mkdtemp(prefix="hostile-memory-"))
    with run_stack(logs, **env) as gateway:
        pid = gateway.pid
        print(f"query: {ALIASES} aliases, estimated cost {WIDE_COST}; logs in {logs}")
        print(f"gateway pid {pid}: RSS at start {rss_mib(pid):.0f} MiB")
        copy = 0
        for concurrency in rounds:
            before = rss_mib(pid)
            cpu = cpu_seconds(pid)
            with PeakRss(pid, interval=0.02) as peak, HealthPoller(gateway.url) as health:
                started = time.perf_counter()
                answers = asyncio.run(send_round(gateway.url, concurrency, copy))
                wall = time.perf_counter() - started
            copy += concurrency
            times = [seconds for _, seconds, _ in answers]
            statuses = Counter(f"{status} {_summary(body)}" for status, _, body in answers)
            size = max(body.get("data", 0) for _, _, body in answers) / 1e6
            print(
                f"{concurrency:>3} concurrent: RSS {before:.0f} -> peak {peak.peak_mib:.0f} MiB, "
                f"retained {rss_mib(pid):.0f} MiB; /healthz slowest "
                f"{health.slowest * 1000:.0f} ms ({health.failures} failed); requests "
                f"slowest {max(times):.2f} s, median {statistics.median(times):.2f} s, "
                f"all in {wall:.2f} s, CPU {cpu_seconds(pid) - cpu:.2f} s; "
                f"answers {dict(statuses)} (~{size:.1f} MB each)"
            )
        gateway.check_alive()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
