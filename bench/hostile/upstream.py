"""A hostile or broken upstream (issue 8, findings 5, 7, 8 and 9), measured over real processes.

    PYTHONPATH=. python -m bench.hostile.upstream [--only page-64m,echo-401,...]

Starts :mod:`bench.hostile.hostile_kombo` and, per probe, a fresh gateway reading it (so that
``VmHWM``, the kernel's peak RSS of the gateway process, belongs to that probe alone), then
prints one line per probe:

- ``page-64m``, ``page-256m``, ``gzip-bomb-1024m`` (1 MB on the wire, 1 GiB inflated),
  ``trickle``: answer time, error code, the gateway's peak RSS and CPU time, the slowest
  ``/healthz`` seen meanwhile (polled every 50 ms);
- ``cursor-48k``: the error code (a 48 KiB ``next`` cursor);
- ``enums``: two rounds of 40,000 distinct unknown ``outcome`` values: RSS before and after,
  and the bytes of log written per round;
- ``echo-400``, ``echo-401``, ``echo-503`` (retried until the gateway gives up), ``echo-code``:
  whether the API key reached the client (body or headers);
- ``scrub-cost``: in this process, the CPU time of :class:`gateway.secret_guard.SecretGuard`'s
  check of a ~7 MB answer (20 sandbox pages of 250 interviews, every field) for three secrets.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from bench.procfs import PeakRss, cpu_seconds
from bench.servers import Server, free_port, run_server

QUERY = "{ interviews(first: 250) { nodes { id } } }"
CURSOR_QUERY = "{ interviews(first: 1) { nodes { id } pageInfo { endCursor } } }"
SIZES = ("page-64m", "page-256m", "gzip-bomb-1024m", "trickle")
ECHOES = ("echo-400", "echo-401", "echo-503", "echo-code")
PROBES = (*SIZES, "cursor-48k", "enums", *ECHOES, "scrub-cost")


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(key)


@contextmanager
def _upstream(logs: Path) -> Iterator[Server]:
    port = free_port()
    args = ["bench.hostile.hostile_kombo", "--port", str(port), "--bombs", "1024"]
    log = logs / "upstream.log"
    with run_server("hostile kombo", args, {}, "/healthz", port, log, timeout=60) as server:
        yield server


@contextmanager
def _gateway(upstream: Server, logs: Path, name: str, api_key: str) -> Iterator[Server]:
    port = free_port()
    env = {
        "KOMBO_API_KEY": api_key,
        "KOMBO_BASE_URL": upstream.url + "/v1",
        "GATEWAY_AUTH": "none",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    log = logs / f"gateway-{name}.log"
    with run_server("gateway", ["gateway", "serve"], env, "/readyz", port, log) as server:
        yield server


class _HealthPoller:
    """Polls ``/healthz`` every 50 ms while the block runs; ``slowest`` in seconds."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.wait(0.05):
                started = time.perf_counter()
                with suppress(httpx.HTTPError):
                    client.get(self.url + "/healthz")
                self.slowest = max(self.slowest, time.perf_counter() - started)

    def __enter__(self) -> _HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _ask(gateway: Server, kind: str, query: str = QUERY) -> httpx.Response:
    headers = {"X-Integration-Id": f"hostile:{kind}", "Accept": "application/json"}
    return httpx.post(gateway.url + "/graphql", json={"query": query}, headers=headers, timeout=120)


def _code(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}, not JSON"
    errors = body.get("errors") or []
    return errors[0].get("extensions", {}).get("code", "?") if errors else "no error"


def _traceback_lines(log: Path) -> int:
    return log.read_text(errors="replace").count("Traceback (most recent call last)")


def probe_size(upstream: Server, logs: Path, kind: str, api_key: str) -> str:
    with _gateway(upstream, logs, kind, api_key) as gateway:
        cpu_before = cpu_seconds(gateway.pid)
        with PeakRss(gateway.pid) as peak, _HealthPoller(gateway.url) as health:
            started = time.perf_counter()
            response = _ask(gateway, kind)
            elapsed = time.perf_counter() - started
        cpu = cpu_seconds(gateway.pid) - cpu_before
        hwm = _status_kib(gateway.pid, "VmHWM") / 1024
        return (
            f"{kind:16} answered in {elapsed:6.2f} s: {_code(response):22} peak RSS "
            f"{max(peak.peak_mib, hwm):7.1f} MiB, CPU {cpu:5.2f} s, slowest /healthz "
            f"{health.slowest * 1000:6.1f} ms, tracebacks in log {_traceback_lines(gateway.log)}"
        )


def probe_cursor(upstream: Server, logs: Path, api_key: str) -> str:
    with _gateway(upstream, logs, "cursor", api_key) as gateway:
        response = _ask(gateway, "cursor-48k", CURSOR_QUERY)
        return (
            f"{'cursor-48k':16} {_code(response)}, tracebacks in log "
            f"{_traceback_lines(gateway.log)}"
        )


def probe_enums(upstream: Server, logs: Path, api_key: str) -> str:
    with _gateway(upstream, logs, "enums", api_key) as gateway:
        rss = [_status_kib(gateway.pid, "VmRSS") / 1024]
        log_bytes = []
        for round_ in ("a", "b"):
            before = gateway.log.stat().st_size
            response = _ask(gateway, f"enums-{round_}")
            assert response.status_code == 200 and "errors" not in response.json(), response.text
            log_bytes.append(gateway.log.stat().st_size - before)
            rss.append(_status_kib(gateway.pid, "VmRSS") / 1024)
        return (
            f"{'enums':16} 2 x 40,000 unknown outcomes: RSS "
            + " -> ".join(f"{r:.1f}" for r in rss)
            + " MiB, log bytes per round "
            + ", ".join(f"{b:,}" for b in log_bytes)
        )


def probe_echoes(upstream: Server, logs: Path, api_key: str) -> list[str]:
    lines = []
    with _gateway(upstream, logs, "echo", api_key) as gateway:
        for kind in ECHOES:
            started = time.perf_counter()
            response = _ask(gateway, kind)
            elapsed = time.perf_counter() - started
            leaked = api_key in response.text or any(
                api_key in v for v in response.headers.values()
            )
            lines.append(
                f"{kind:16} answered in {elapsed:5.2f} s: {_code(response):28} "
                f"API key reaches the client: {'YES' if leaked else 'no'}"
            )
    return lines


def probe_scrub_cost() -> str:
    import asyncio

    from gateway.redaction import Redactor
    from gateway.sandbox.app import create_sandbox_app

    async def page() -> bytes:
        app = create_sandbox_app(api_key="k")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox/v1") as client:
            headers = {"Authorization": "Bearer k", "X-Integration-Id": "sandbox:acme-corp"}
            response = await client.get("/ats/interviews?page_size=250", headers=headers)
            return response.content

    one = asyncio.run(page())
    body = b"[" + b",".join([one] * 20) + b"]"
    redactor = Redactor(
        ["sk-" + secrets.token_hex(16), secrets.token_hex(32), secrets.token_hex(16)]
    )
    rounds = 50
    started = time.process_time()
    for _ in range(rounds):
        redactor.scrub(body)
    per_answer = (time.process_time() - started) / rounds
    return (
        f"{'scrub-cost':16} {len(body) / 1e6:.1f} MB answer, {len(redactor.needles)} spellings: "
        f"{per_answer * 1000:.2f} ms CPU per answer"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", default=",".join(PROBES), help="comma-separated probes")
    chosen = parser.parse_args().only.split(",")
    api_key = "sk-probe-" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="hostile-upstream-") as tmp:
        logs = Path(tmp)
        if set(chosen) - {"scrub-cost"}:
            with _upstream(logs) as upstream:
                for kind in SIZES:
                    if kind in chosen:
                        print(probe_size(upstream, logs, kind, api_key), flush=True)
                if "cursor-48k" in chosen:
                    print(probe_cursor(upstream, logs, api_key), flush=True)
                if "enums" in chosen:
                    print(probe_enums(upstream, logs, api_key), flush=True)
                if any(kind in chosen for kind in ECHOES):
                    for line in probe_echoes(upstream, logs, api_key):
                        print(line, flush=True)
    if "scrub-cost" in chosen:
        print(probe_scrub_cost(), flush=True)


if __name__ == "__main__":
    main()
