"""Live: N subscribers on one gateway worker receive one change (issue 13's load test).

    python -m bench.live --subscribers 1000 [--changes 5] [--latency-ms 20] [--output FILE]

Starts the bench upstream (:mod:`bench.upstream`, the sandbox) with ``--webhook-url`` pointing at
the gateway's ``/webhooks/kombo`` and a signing secret (``SANDBOX_WEBHOOK_SECRET`` on the
sandbox, ``KOMBO_WEBHOOK_SECRET`` on the gateway), and ONE gateway worker (``gateway serve``),
with its live limits raised to fit the subscribers (:func:`gateway_env`). Then, in this process,
on one asyncio event loop:

1. warms the gateway up (one query, one subscription opened and closed) and reads its RSS
   (``VmRSS`` of its process tree, ``/proc``);
2. opens N WebSockets (``graphql-transport-ws``: ``connection_init`` → ``connection_ack`` →
   ``subscribe``) running README "Live changes"'s subscription (:data:`SUBSCRIPTION`), waits
   until the gateway's ``kombo_gateway_live_subscribers`` says N, and reads its RSS again:
   memory per subscriber = (after - before) / N;
3. per change (``--changes``, 5): clears the sandbox's request log, reads the gateway's CPU time,
   takes the time and POSTs ``/__sandbox/changes`` (an interview of the default integration
   edited; the sandbox answers once the gateway has answered its signed webhook), then waits
   until every subscriber has the ``next`` message for that edit (its node id and
   ``changedAt``), plus :data:`SETTLE_SECONDS` for duplicates. Per subscriber the delivery time
   is the message's arrival minus the time taken just before the POST (also reported from the
   POST's answer). Counted: subscribers that received it, any that got it more than once, other
   messages, the upstream calls in the sandbox's log (what the refresh fetched), the gateway's
   refreshes (``kombo_gateway_live_refreshes``) and its CPU time from the POST until the last
   delivery.

Arrival times are taken by this process when its event loop hands a message to the
subscriber's coroutine: 1,000 messages arriving at once queue in this loop too, so the tail
includes the client's own work. Prints Markdown tables and writes them to ``--output``
(``bench/results/live.md``, gitignored).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import resource
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.errors import HarnessError
from bench.procfs import process_tree
from bench.report import markdown_table
from bench.servers import ROOT, Server, free_port, run_server
from gateway.sandbox.data import INTEGRATIONS

__all__ = [
    "SUBSCRIPTION",
    "ChangeResult",
    "LiveConfig",
    "LiveReport",
    "main",
    "metric_value",
    "negotiated_compression",
    "percentile",
    "render",
    "rss_kib",
    "run",
    "run_and_wait_seconds",
]

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "live.md"
INTEGRATION = INTEGRATIONS[0]
"""The gateway's default integration, whose interviews the changes edit."""

SUBSCRIPTION = """subscription {
  changes(types: [INTERVIEW]) {
    type
    deleted
    changedAt
    node {
      id
      ... on Interview {
        title
        startingAt
        application { candidate { firstName lastName } }
      }
    }
  }
}
"""
"""README "Live changes"'s subscription: fields an interview record inlines (no completion)."""

SETTLE_SECONDS = 0.5
"""After the last subscriber has a change, how long duplicates may still arrive and count."""

PROTOCOL = "graphql-transport-ws"

REFRESHES = "kombo_gateway_live_refreshes_total"
DELIVERIES = "kombo_gateway_live_deliveries_total"


@dataclass(frozen=True)
class LiveConfig:
    """One run's settings (the command line's options)."""

    subscribers: int = 1000
    changes: int = 5
    latency: float = 0.020
    """Seconds the sandbox adds to every upstream answer."""
    pause: float = 1.0
    """Seconds between one change's last delivery and the next change."""
    timeout: float = 30.0
    """Seconds a change may take to reach every subscriber before the run fails."""
    connect_concurrency: int = 50
    """WebSocket handshakes in flight at once while subscribing."""
    compression: bool = True
    """Offer permessage-deflate, as browsers and npm's ws do."""
    log_dir: Path | None = None


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile of ``values``, nearest rank (an observed value: p100
    is the maximum, p50 of an even count the lower middle). NaN when empty."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction {fraction} is not within 0..1")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


_SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)"
)
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metric_samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """The samples of ``name`` in Prometheus' text format ``text``: each one's labels and value."""
    samples = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match is not None and match["name"] == name:
            samples.append((dict(_LABEL.findall(match["labels"] or "")), float(match["value"])))
    return samples


def metric_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` in Prometheus' text format ``text`` whose labels
    include ``labels`` (0 when there is none)."""
    return sum(
        value
        for found, value in metric_samples(text, name)
        if all(found.get(key) == wanted for key, wanted in labels.items())
    )


def run_and_wait_seconds(pid: int) -> tuple[float, float]:
    """Time on a CPU and time runnable but waiting for one (the run queue), summed over every
    live thread of ``pid``'s process tree: the first two fields of
    ``/proc/<pid>/task/<tid>/schedstat``, in seconds."""
    run = wait = 0
    for member in process_tree(pid):
        try:
            tasks = list(Path(f"/proc/{member}/task").iterdir())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for task in tasks:
            try:
                fields = (task / "schedstat").read_text().split()
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            run, wait = run + int(fields[0]), wait + int(fields[1])
    return run / 1e9, wait / 1e9


def rss_kib(pid: int) -> int:
    """``VmRSS`` of ``pid``'s process tree, summed, in KiB."""
    total = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


@dataclass
class ChangeResult:
    """What one change cost and how it reached the subscribers."""

    index: int
    record_id: str
    post_ms: float
    """From just before the POST to its answer (the edit, its webhook, the gateway's 200)."""
    delivery_ms: list[float]
    """Per subscriber that received it, arrival minus the time taken before the POST."""
    from_answer_ms: list[float]
    """The same arrivals minus the POST's answer."""
    received: int
    duplicates: int
    """Subscribers that received it more than once."""
    other_messages: int
    """Messages of other records (or errors) during the change."""
    upstream_calls: int
    upstream_paths: list[str]
    refreshes: float
    """The gateway's webhook-triggered refreshes (``kombo_gateway_live_refreshes``)."""
    deliveries: float
    """Changes the gateway queued for subscribers (``kombo_gateway_live_deliveries``)."""
    cpu_ms: float
    """The gateway's CPU time from just before the POST to the last delivery."""
    runqueue_ms: float
    """The gateway's time runnable but waiting for a CPU (other processes had them), as long."""
    wall_ms: float
    """From just before the POST to the last delivery."""


@dataclass
class LiveReport:
    """The run: its settings, the memory and connection figures, and each change."""

    settings: dict[str, Any]
    subscribers: int
    registered: int
    subscribe_seconds: float
    rss_before_kib: int
    rss_after_kib: int
    compression: str
    changes: list[ChangeResult] = field(default_factory=list)

    @property
    def per_subscriber_kib(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.subscribers


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def render(report: LiveReport) -> str:
    """The run as Markdown: the setup table, then one row per change and one over all."""
    n = report.subscribers
    setup = markdown_table(
        ["subscribers", "registered", "subscribe s", "RSS before MiB", "RSS after MiB",
         "per subscriber KiB", "permessage-deflate"],
        [[str(n), str(report.registered), f"{report.subscribe_seconds:.1f}",
          f"{report.rss_before_kib / 1024:.1f}", f"{report.rss_after_kib / 1024:.1f}",
          f"{report.per_subscriber_kib:.1f}", report.compression]],
    )  # fmt: skip
    header = [
        "change", "received", "dupes", "other msgs", "p50 ms", "p99 ms", "max ms",
        "p50 from answer ms", "POST answered ms", "upstream calls", "refreshes", "queued",
        "gateway CPU ms", "CPU % of wall", "run-queue wait ms",
    ]  # fmt: skip
    rows = []

    def row(label: str, changes: Sequence[ChangeResult]) -> list[str]:
        delivery = [d for c in changes for d in c.delivery_ms]
        from_answer = [d for c in changes for d in c.from_answer_ms]
        cpu = sum(c.cpu_ms for c in changes)
        wall = sum(c.wall_ms for c in changes)
        return [
            label,
            f"{sum(c.received for c in changes)}/{n * len(changes)}",
            str(sum(c.duplicates for c in changes)),
            str(sum(c.other_messages for c in changes)),
            _ms(percentile(delivery, 0.50)),
            _ms(percentile(delivery, 0.99)),
            _ms(max(delivery, default=math.nan)),
            _ms(percentile(from_answer, 0.50)),
            _ms(statistics.median(c.post_ms for c in changes)),
            str(sum(c.upstream_calls for c in changes)),
            f"{sum(c.refreshes for c in changes):g}",
            f"{sum(c.deliveries for c in changes):g}",
            f"{cpu:.0f}",
            f"{100 * cpu / wall:.0f}" if wall else "-",
            f"{sum(c.runqueue_ms for c in changes):.0f}",
        ]

    for change in report.changes:
        rows.append(row(str(change.index), [change]))
    if len(report.changes) > 1:
        rows.append(row(f"all {len(report.changes)}", report.changes))
    paths = sorted({p for c in report.changes for p in c.upstream_paths})
    notes = (
        "Delivery: from just before `POST /__sandbox/changes` to the `next` message's arrival "
        f'in the harness (one event loop for all {n} WebSockets); "from answer": from the '
        "POST's answer (the sandbox answers once the gateway has acknowledged the webhook). "
        "POST answered: median. Upstream calls: the sandbox's request log during the change "
        f"({', '.join(paths) or 'none'}). Refreshes (webhook-triggered) and queued (changes "
        "queued for subscribers): the gateway's `kombo_gateway_live_*` metrics. CPU: the "
        "gateway process from the POST to the last delivery "
        "(`/proc/<pid>/task/*/schedstat`); run-queue wait: its time runnable but waiting for a "
        "core that other processes held, over the same span. p50/p99: nearest rank; the `all` "
        "row pools every subscriber's delivery of every change; upstream calls, refreshes, "
        "CPU and waits are sums there."
    )
    settings = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    return (
        f"## Live: {n:,} subscribers, one gateway worker\n\n"
        f"Settings: {settings}\n\n{setup}\n\n{markdown_table(header, rows)}\n\n{notes}\n"
    )


def gateway_env(
    upstream_url: str, port: int, api_key: str, secret: str, subscribers: int
) -> dict[str, str]:
    """One worker reading the upstream, verifying the webhooks, with room for the subscribers:
    a refresh per webhook (no minimum gap), no poll during the run."""
    room = str(max(subscribers + 16, 1000))
    return {
        "KOMBO_API_KEY": api_key,
        "KOMBO_BASE_URL": upstream_url + "/v1",
        "KOMBO_INTEGRATION_ID": INTEGRATION,
        "KOMBO_WEBHOOK_SECRET": secret,
        "PORT": str(port),
        "GATEWAY_WORKERS": "1",
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION": room,
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS": room,
        "GATEWAY_LIVE_MIN_REFRESH_SECONDS": "0",
        "GATEWAY_LIVE_POLL_SECONDS": "3600",
        "GATEWAY_LIVE_IDLE_SECONDS": "3600",
        "GATEWAY_LIVE_KEEPALIVE_SECONDS": "15",
        "GATEWAY_LIVE_INIT_TIMEOUT_SECONDS": "60",
    }


@dataclass
class _Stack:
    upstream: Server
    gateway: Server


@contextmanager
def _start(config: LiveConfig) -> Iterator[_Stack]:
    api_key = "bench-" + secrets.token_hex(8)
    secret = "whsec_bench-" + secrets.token_hex(16)
    logs = config.log_dir or Path(tempfile.mkdtemp(prefix="kombo-bench-live-"))
    logs.mkdir(parents=True, exist_ok=True)
    _log(f"servers' logs in {logs}")
    upstream_port, gateway_port = free_port(), free_port()
    with ExitStack() as stack:
        upstream = stack.enter_context(
            run_server(
                "upstream (sandbox)",
                ["bench.upstream", "--port", str(upstream_port), "--api-key", api_key,
                 "--latency", str(config.latency),
                 "--webhook-url", f"http://127.0.0.1:{gateway_port}/webhooks/kombo"],
                {"SANDBOX_WEBHOOK_SECRET": secret},
                "/healthz",
                upstream_port,
                logs / "upstream.log",
            )
        )  # fmt: skip
        env = gateway_env(upstream.url, gateway_port, api_key, secret, config.subscribers)
        gateway = stack.enter_context(
            run_server(
                "gateway", ["gateway", "serve"], env, "/readyz", gateway_port, logs / "gateway.log"
            )
        )
        yield _Stack(upstream, gateway)


def _log(message: str) -> None:
    print(f"[bench.live] {message}", file=sys.stderr, flush=True)


def _raise_own_descriptor_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise HarnessError(
            f"{needed} file descriptors needed for the subscribers, RLIMIT_NOFILE allows {hard}"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY
                                                else hard, hard))  # fmt: skip


class _Subscriber:
    """One WebSocket running :data:`SUBSCRIPTION`; its ``next`` messages with arrival times."""

    def __init__(self, url: str, compression: bool) -> None:
        self.url = url
        self.compression = compression
        self.arrivals: list[tuple[float, dict[str, Any]]] = []
        self.extension = ""
        self.ready = asyncio.Event()
        self.failure: str | None = None
        self._socket: Any = None

    async def open(self, operation: str = "1") -> None:
        from websockets.asyncio.client import connect

        socket = await connect(
            self.url,
            subprotocols=[PROTOCOL],  # type: ignore[list-item]
            compression="deflate" if self.compression else None,
            ping_interval=None,
            open_timeout=60,
            max_queue=None,
        )
        self._socket = socket
        response = socket.response
        if response is not None:
            self.extension = response.headers.get("Sec-WebSocket-Extensions", "") or ""
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        ack = json.loads(await socket.recv())
        if ack.get("type") != "connection_ack":
            raise HarnessError(f"expected connection_ack, got {ack}")
        await socket.send(
            json.dumps({"type": "subscribe", "id": operation, "payload": {"query": SUBSCRIPTION}})
        )

    async def read(self) -> None:
        """Until the socket closes: answer pings, keep ``next`` payloads with arrival times."""
        socket = self._socket
        try:
            async for raw in socket:
                arrived = time.perf_counter()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send('{"type":"pong"}')
                elif kind == "next":
                    self.arrivals.append((arrived, message["payload"]))
                elif kind in ("error", "complete"):
                    self.failure = f"{kind}: {message}"
                    self.arrivals.append((arrived, {"errors": [message]}))
        except Exception as exc:  # a closed socket ends the reader; the run checks counts
            self.failure = f"{type(exc).__name__}: {exc}"

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()


def _is_change(payload: dict[str, Any], node_id: str, changed_at: str) -> bool:
    change = (payload.get("data") or {}).get("changes") or {}
    node = change.get("node") or {}
    return bool(node.get("id") == node_id and change.get("changedAt") == changed_at)


async def _subscribers_now(http: httpx.AsyncClient) -> float:
    response = await http.get("/metrics")
    response.raise_for_status()
    return metric_value(response.text, "kombo_gateway_live_subscribers")


async def _wait_for_subscribers(http: httpx.AsyncClient, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (seen := await _subscribers_now(http)) != count:
        if time.monotonic() > deadline:
            raise HarnessError(f"the gateway has {seen:g} live subscribers, not {count}")
        await asyncio.sleep(0.05)


async def _change(
    index: int,
    stack: _Stack,
    sandbox: httpx.AsyncClient,
    gateway: httpx.AsyncClient,
    subscribers: list[_Subscriber],
    config: LiveConfig,
) -> ChangeResult:
    from gateway.schema.ids import global_id

    (await sandbox.delete("/__sandbox/requests")).raise_for_status()
    metrics = (await gateway.get("/metrics")).text
    refreshes_before = metric_value(metrics, REFRESHES, trigger="webhook")
    deliveries_before = metric_value(metrics, DELIVERIES)
    marks = [len(s.arrivals) for s in subscribers]
    cpu_before, waited_before = run_and_wait_seconds(stack.gateway.pid)
    sent = time.perf_counter()
    response = await sandbox.post(
        "/__sandbox/changes", json={"integration_id": INTEGRATION, "model": "Interview"}
    )
    answered = time.perf_counter()
    if response.status_code != 201 or response.json().get("webhook") != {"status": 200}:
        raise HarnessError(f"the sandbox's change failed: {response.status_code} {response.text}")
    edit = response.json()
    node_id, changed_at = global_id("Interview", edit["id"]), edit["changed_at"]

    def matching(subscriber: _Subscriber, mark: int) -> list[float]:
        return [
            arrived
            for arrived, payload in subscriber.arrivals[mark:]
            if _is_change(payload, node_id, changed_at)
        ]

    deadline = time.monotonic() + config.timeout
    while not all(matching(s, m) for s, m in zip(subscribers, marks, strict=True)):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.005)
    last = max((t for s, m in zip(subscribers, marks, strict=True) for t in matching(s, m)),
               default=time.perf_counter())  # fmt: skip
    cpu_after, waited_after = run_and_wait_seconds(stack.gateway.pid)
    await asyncio.sleep(SETTLE_SECONDS)
    delivery, from_answer = [], []
    received = duplicates = others = 0
    for subscriber, mark in zip(subscribers, marks, strict=True):
        times = matching(subscriber, mark)
        others += len(subscriber.arrivals) - mark - len(times)
        if times:
            received += 1
            delivery.append((times[0] - sent) * 1000)
            from_answer.append((times[0] - answered) * 1000)
        if len(times) > 1:
            duplicates += 1
    log = (await sandbox.get("/__sandbox/requests")).json()["requests"]
    metrics = (await gateway.get("/metrics")).text
    return ChangeResult(
        index=index,
        record_id=edit["id"],
        post_ms=(answered - sent) * 1000,
        delivery_ms=delivery,
        from_answer_ms=from_answer,
        received=received,
        duplicates=duplicates,
        other_messages=others,
        upstream_calls=len(log),
        upstream_paths=sorted({str(entry.get("path", entry)) for entry in log}),
        refreshes=metric_value(metrics, REFRESHES, trigger="webhook") - refreshes_before,
        deliveries=metric_value(metrics, DELIVERIES) - deliveries_before,
        cpu_ms=(cpu_after - cpu_before) * 1000,
        runqueue_ms=(waited_after - waited_before) * 1000,
        wall_ms=(last - sent) * 1000,
    )


def negotiated_compression(extensions: set[str]) -> str:
    """What the subscribers' handshakes agreed on: permessage-deflate on all, none, or some."""
    if all("permessage-deflate" in e for e in extensions):
        return "negotiated"
    return "off" if not any(extensions) else "mixed"


async def _measure(stack: _Stack, config: LiveConfig) -> LiveReport:
    n = config.subscribers
    ws_url = stack.gateway.url.replace("http://", "ws://", 1) + "/graphql"
    async with (
        httpx.AsyncClient(base_url=stack.gateway.url, timeout=30) as gateway,
        httpx.AsyncClient(base_url=stack.upstream.url, timeout=30) as sandbox,
    ):
        # Warm-up: a query and one subscription, so that RSS before holds what the first use loads.
        answer = await gateway.post(
            "/graphql", json={"query": "{ interviews(first: 5) { nodes { id title } } }"}
        )
        if answer.status_code != 200 or "errors" in answer.json():
            raise HarnessError(f"the warm-up query failed: {answer.text}")
        warm = _Subscriber(ws_url, config.compression)
        await warm.open()
        await _wait_for_subscribers(gateway, 1, 30)
        await warm.close()
        await _wait_for_subscribers(gateway, 0, 30)
        await asyncio.sleep(0.5)
        rss_before = rss_kib(stack.gateway.pid)

        subscribers = [_Subscriber(ws_url, config.compression) for _ in range(n)]
        gate = asyncio.Semaphore(config.connect_concurrency)

        async def open_one(subscriber: _Subscriber) -> None:
            async with gate:
                await subscriber.open()

        started = time.perf_counter()
        await asyncio.gather(*(open_one(s) for s in subscribers))
        readers = [asyncio.create_task(s.read()) for s in subscribers]
        await _wait_for_subscribers(gateway, n, 60)
        subscribe_seconds = time.perf_counter() - started
        registered = int(await _subscribers_now(gateway))
        await asyncio.sleep(1.0)
        rss_after = rss_kib(stack.gateway.pid)
        _log(f"{registered} subscribers in {subscribe_seconds:.1f}s; RSS "
             f"{rss_before / 1024:.1f} → {rss_after / 1024:.1f} MiB")  # fmt: skip
        extensions = {s.extension for s in subscribers}
        report = LiveReport(
            settings={
                "subscribers": n,
                "changes": config.changes,
                "upstream latency ms": round(config.latency * 1000),
                "workers": 1,
            },
            subscribers=n,
            registered=registered,
            subscribe_seconds=subscribe_seconds,
            rss_before_kib=rss_before,
            rss_after_kib=rss_after,
            compression=negotiated_compression(extensions),
        )
        try:
            for index in range(1, config.changes + 1):
                result = await _change(index, stack, sandbox, gateway, subscribers, config)
                _log(
                    f"change {index}: {result.received}/{n} received, p50 "
                    f"{percentile(result.delivery_ms, 0.5):.1f} ms, max "
                    f"{max(result.delivery_ms, default=math.nan):.1f} ms"
                )
                report.changes.append(result)
                await asyncio.sleep(config.pause)
        finally:
            await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        failures = [
            s.failure for s in subscribers if s.failure and "ConnectionClosedOK" not in s.failure
        ]
        if failures:
            _log(f"{len(failures)} subscribers failed, e.g. {failures[0]}")
        return report


def run(config: LiveConfig) -> LiveReport:
    """Start the servers, measure, stop them; the report."""
    _raise_own_descriptor_limit(config.subscribers + 256)
    with _start(config) as stack:
        report = asyncio.run(_measure(stack, config))
        stack.gateway.check_alive()
        return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.live", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=5, help="changes made one after another")
    parser.add_argument("--latency-ms", type=float, default=20, help="upstream latency (20)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between changes")
    parser.add_argument("--timeout", type=float, default=30, help="seconds a change may take")
    parser.add_argument(
        "--no-compression", action="store_true", help="do not offer permessage-deflate"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file")
    parser.add_argument("--log-dir", type=Path, help="servers' logs (default: a temp dir)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless every subscriber got every change once"
    )
    args = parser.parse_args(argv)
    if args.subscribers < 1 or args.changes < 1:
        parser.error("--subscribers and --changes must be at least 1")
    config = LiveConfig(
        subscribers=args.subscribers,
        changes=args.changes,
        latency=args.latency_ms / 1000,
        pause=args.pause,
        timeout=args.timeout,
        compression=not args.no_compression,
        log_dir=args.log_dir,
    )
    try:
        report = run(config)
    except HarnessError as exc:
        print(f"bench.live: {exc}", file=sys.stderr)
        return 2
    text = render(report)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    _log(f"written to {args.output}")
    complete = all(c.received == report.subscribers and c.duplicates == 0 for c in report.changes)
    if args.check and not complete:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
