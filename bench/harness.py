"""Run the benchmark: start the servers, check every scenario's answers, load each target, report.

    make bench                     (or: .venv/bin/python -m bench --help)

For each scenario, over its targets (REST, baseline, gateway, and GraphQL Mesh for the pages it
serves when installed: :mod:`bench.graphql_mesh`):

1. **Probe**: for every variant of the scenario, one cold, sequential pass (a walk follows each
   answer's cursor), with the sandbox's request log cleared before and read after: every answer
   must be a clean success with the expected number of records, and all targets must return
   the same records (by Kombo id). This gives the exact upstream request count and the requests
   the load replays.
2. **Warm-up**: ``wrk`` on each target for ``--warmup`` seconds, not measured.
3. **Load**: ``--rounds`` rounds; in each, every target in turn gets one ``wrk`` slice of
   ``--duration / --rounds`` seconds, started once every server is quiet (the previous target's
   after-work is not billed to the next), while its server's CPU time (its process tree, from
   ``/proc``) is read before and after, and its RSS sampled; the sandbox's log gives the
   upstream requests made meanwhile. Interleaving the targets keeps their ratios fair on a
   machine that is also busy with other work. Finally each server must still be alive and
   answer the probe's first request cleanly again.

Anything wrong raises :class:`~bench.errors.HarnessError` and ends the run without a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.errors import HarnessError
from bench.graphql_mesh import MESH_DIR, MeshTarget, introspect, mesh_bin, mesh_serves, run_mesh
from bench.load import LoadResult, LoadSettings, run_wrk, write_requests, wrk_path
from bench.procfs import PeakRss, cpu_seconds
from bench.report import TARGET_ORDER, Measurement, Report
from bench.scenarios import (
    DEFAULT_INTEGRATION,
    SCENARIOS,
    BaselineTarget,
    GatewayTarget,
    HttpRequest,
    RestTarget,
    Scenario,
    Target,
)
from bench.servers import ROOT, Server, free_port, run_server

__all__ = [
    "BenchConfig",
    "Probe",
    "ProbeSet",
    "Stack",
    "main",
    "measure",
    "probe",
    "run",
    "start_stack",
]

DEFAULT_OUTPUT = ROOT / "bench" / "results" / "latest.md"


@dataclass(frozen=True)
class BenchConfig:
    """One run's settings (the command line's options)."""

    latency: float = 0.020
    """Seconds the sandbox adds to every upstream answer."""
    load: LoadSettings = field(default_factory=LoadSettings)
    warmup: int = 2
    """Seconds of load per target before measuring (not measured)."""
    rounds: int = 5
    """Slices each target's ``load.duration`` is cut into, interleaved with the other targets'."""
    scenarios: tuple[str, ...] = tuple(SCENARIOS)
    targets: tuple[str, ...] = TARGET_ORDER
    workers: int = 1
    """Worker processes of the gateway and, alike, of the baseline."""
    gateway_env: dict[str, str] = field(default_factory=dict)
    """Extra environment of the gateway (e.g. ``GATEWAY_CACHE_TTL=5``)."""
    identical: bool = False
    """Replay one request per scenario instead of distinct variants (shows coalescing, caches)."""
    log_dir: Path | None = None


@dataclass
class Stack:
    """The running servers and what the targets need to reach them."""

    api_key: str
    upstream: Server
    servers: dict[str, Server]
    """By target name: ``rest`` is the upstream itself."""
    targets: dict[str, Target]
    clients: dict[str, httpx.Client]
    """By target name, a client of its server (kept: a new httpx client costs milliseconds)."""

    def upstream_log(self) -> list[dict[str, object]]:
        response = self.clients["rest"].get("/__sandbox/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def clear_upstream_log(self) -> None:
        self.clients["rest"].delete("/__sandbox/requests").raise_for_status()

    def check_alive(self) -> None:
        for server in {self.upstream, *self.servers.values()}:
            server.check_alive()


@contextmanager
def start_stack(config: BenchConfig) -> Iterator[Stack]:
    """Start the upstream and the servers the configured targets need; stop them afterwards."""
    api_key = "bench-" + secrets.token_hex(8)
    logs = config.log_dir or Path(tempfile.mkdtemp(prefix="kombo-bench-"))
    logs.mkdir(parents=True, exist_ok=True)
    _log(f"servers' logs in {logs}")
    with ExitStack() as stack:
        port = free_port()
        upstream = stack.enter_context(
            run_server(
                "upstream (sandbox)",
                ["bench.upstream", "--port", str(port), "--api-key", api_key,
                 "--latency", str(config.latency)],
                {},
                "/healthz",
                port,
                logs / "upstream.log",
            )
        )  # fmt: skip
        servers: dict[str, Server] = {"rest": upstream}
        targets: dict[str, Target] = {"rest": RestTarget(api_key)}
        if "baseline" in config.targets:
            port = free_port()
            servers["baseline"] = stack.enter_context(
                run_server(
                    "baseline",
                    ["bench.baseline", "--port", str(port), "--upstream", upstream.url + "/v1",
                     "--integration", DEFAULT_INTEGRATION, "--workers", str(config.workers)],
                    {"KOMBO_API_KEY": api_key},
                    "/healthz",
                    port,
                    logs / "baseline.log",
                )
            )  # fmt: skip
            targets["baseline"] = BaselineTarget()
        if "gateway" in config.targets:
            port = free_port()
            env = {
                "KOMBO_API_KEY": api_key,
                "KOMBO_BASE_URL": upstream.url + "/v1",
                "KOMBO_INTEGRATION_ID": DEFAULT_INTEGRATION,
                "PORT": str(port),
                **({"GATEWAY_WORKERS": str(config.workers)} if config.workers != 1 else {}),
                **config.gateway_env,
            }
            servers["gateway"] = stack.enter_context(
                run_server(
                    "gateway", ["gateway", "serve"], env, "/readyz", port, logs / "gateway.log"
                )
            )
            targets["gateway"] = GatewayTarget()
        if _wants_mesh(config):
            servers["mesh"] = stack.enter_context(
                run_mesh(upstream.url + "/v1", api_key, logs / "mesh-project", logs / "mesh.log")
            )
        clients = {
            name: stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            for name, server in servers.items()
        }
        if "mesh" in servers:
            targets["mesh"] = MeshTarget(introspect(clients["mesh"]))
        yield Stack(api_key, upstream, servers, targets, clients)


def _wants_mesh(config: BenchConfig) -> bool:
    """Mesh is measured when asked for, installed, and some scenario is one it serves; when it
    is not installed, the run goes on without it (``make bench`` installs it; tests do not)."""
    if "mesh" not in config.targets:
        return False
    if not any(mesh_serves(SCENARIOS[key]) for key in config.scenarios):
        _log("GraphQL Mesh: skipped, it serves none of these scenarios (only a, d, e, f)")
        return False
    if mesh_bin() is None:
        _log(f"GraphQL Mesh: skipped, not installed in {MESH_DIR} (make mesh-deps; needs node)")
        return False
    return True


@dataclass(frozen=True)
class Probe:
    """One clean sequential pass of a scenario variant through one target."""

    requests: list[HttpRequest]
    ids: list[str]
    upstream_requests: int


@dataclass(frozen=True)
class ProbeSet:
    """The probes of every variant of a scenario through one target, in variant order."""

    probes: list[Probe]

    @property
    def requests(self) -> list[HttpRequest]:
        """Every variant's requests: what the load replays, in turn."""
        return [request for p in self.probes for request in p.requests]

    @property
    def upstream_per_request(self) -> float:
        return sum(p.upstream_requests for p in self.probes) / len(self.requests)

    @property
    def most_upstream_requests(self) -> int:
        """Upstream requests of the costliest variant (they should all cost the same)."""
        return max(p.upstream_requests for p in self.probes)


def _send(client: httpx.Client, request: HttpRequest) -> httpx.Response:
    return client.request(
        request.method, request.path, headers=dict(request.headers), content=request.body
    )


def probe(stack: Stack, target_name: str, scenario: Scenario) -> Probe:
    """Fetch the scenario once, sequentially; check every answer; count upstream requests."""
    target = stack.targets[target_name]
    where = f"({scenario.key}) {target_name}"
    requests: list[HttpRequest] = []
    ids: list[str] = []
    stack.clear_upstream_log()
    client = stack.clients[target_name]
    cursor: str | None = None
    for page in range(scenario.pages):
        request = target.request(scenario, cursor)
        try:
            answer = target.read(scenario, _send(client, request))
        except HarnessError as exc:
            raise HarnessError(f"{where}: {exc}") from None
        if len(answer.ids) != scenario.items_per_request:
            raise HarnessError(
                f"{where}: request {page + 1} gave {len(answer.ids)} records, "
                f"expected {scenario.items_per_request}"
            )
        requests.append(request)
        ids += answer.ids
        cursor = answer.next_cursor
        if cursor is None and page + 1 < scenario.pages:
            raise HarnessError(f"{where}: no next page after page {page + 1}")
    upstream = len(stack.upstream_log())
    if len(set(ids)) != len(ids):
        raise HarnessError(f"{where}: the same record came back twice")
    if scenario.is_lookup and set(ids) != set(scenario.ids):
        raise HarnessError(f"{where}: the lookup did not return exactly the ids asked for")
    stack.check_alive()
    return Probe(requests, ids, upstream)


@dataclass
class _Slices:
    """One target's load slices of a scenario, added up."""

    results: list[LoadResult] = field(default_factory=list)
    cpu_seconds: float = 0.0
    upstream_requests: int = 0
    peak_rss_mib: float = 0.0
    rss_sum_mib: float = 0.0
    quiet_waits: list[float] = field(default_factory=list)
    """Seconds waited before each slice for the servers to settle."""


QUIET_CPU_SHARE = 0.05
"""The servers are quiet when, together, they use less than this share of one core."""
QUIET_WINDOW = 0.1
QUIET_WAIT_MAX = 5.0


def wait_until_quiet(pids: Iterable[int]) -> float:
    """Wait (at most :data:`QUIET_WAIT_MAX` seconds) until the process trees of ``pids`` (the
    servers) have settled; the seconds waited.

    A server may keep working after its load ends (Node.js's garbage collection and JIT,
    Python's deallocations): on a 2-core machine that work would slow the next target's slice
    and raise its CPU per request, a cost of the previous target billed to the next."""
    pids = set(pids)
    started = time.monotonic()
    while time.monotonic() - started < QUIET_WAIT_MAX:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(QUIET_WINDOW)
        if sum(cpu_seconds(pid) for pid in pids) - before < QUIET_CPU_SHARE * QUIET_WINDOW:
            break
    return time.monotonic() - started


def _load_slice(
    stack: Stack, target_name: str, requests_file: Path, settings: LoadSettings, into: _Slices
) -> None:
    """One ``wrk`` run on one target, with its CPU time, peak RSS and upstream requests; it
    starts once the servers are quiet (:func:`wait_until_quiet`)."""
    server = stack.servers[target_name]
    every_server = {stack.upstream, *stack.servers.values()}
    into.quiet_waits.append(wait_until_quiet(s.pid for s in every_server))
    stack.clear_upstream_log()
    cpu_before = cpu_seconds(server.pid)
    with PeakRss(server.pid) as rss:
        result = run_wrk(server.url, requests_file, settings)  # drained: nothing in flight
    into.cpu_seconds += cpu_seconds(server.pid) - cpu_before
    into.upstream_requests += len(stack.upstream_log())
    into.peak_rss_mib = max(into.peak_rss_mib, rss.peak_mib)
    into.rss_sum_mib = max(into.rss_sum_mib, rss.total_mib)
    into.results.append(result)
    stack.check_alive()


def measure(
    stack: Stack, scenario: Scenario, probes: Mapping[str, ProbeSet], config: BenchConfig
) -> list[Measurement]:
    """Load each target in turn, ``config.rounds`` times, with its probes' requests.

    Each target is warmed up first. Then every round gives each target one slice of
    ``duration / rounds`` seconds, so that whatever else the machine is doing weighs on all
    targets alike, and the ratios between them stay fair. Per target, the slices add up:
    completed requests, CPU time, upstream requests, and the latency histograms (merged).
    """
    slices = {name: _Slices() for name in probes}
    slice_settings = dataclasses.replace(
        config.load, duration=max(1, config.load.duration // config.rounds)
    )
    with tempfile.TemporaryDirectory(prefix="kombo-bench-wrk-") as tmp:
        files = {
            name: write_requests(found.requests, Path(tmp) / f"{name}.tsv")
            for name, found in probes.items()
        }
        for name, requests_file in files.items():
            if config.warmup > 0:
                _log(f"({scenario.key}) {scenario.title}: {name} warm-up, {config.warmup} s")
                warmup = dataclasses.replace(config.load, duration=config.warmup)
                run_wrk(stack.servers[name].url, requests_file, warmup)
                stack.check_alive()
        for round_ in range(config.rounds):
            _log(
                f"({scenario.key}) {scenario.title}: round {round_ + 1}/{config.rounds}, "
                f"{slice_settings.duration} s each on {', '.join(probes)}"
            )
            for name, requests_file in files.items():
                _load_slice(stack, name, requests_file, slice_settings, slices[name])
    _log(
        f"({scenario.key}) waited for the servers to settle before each slice: "
        + ", ".join(f"{name} up to {max(done.quiet_waits):.1f} s" for name, done in slices.items())
    )
    measurements = []
    for name, found in probes.items():
        target = stack.targets[name]
        try:
            target.read(scenario, _send(stack.clients[name], found.requests[0]))
        except HarnessError as exc:
            raise HarnessError(f"({scenario.key}) {name} after load: {exc}") from None
        measurements.append(_measurement(scenario, name, found, slices[name]))
    return measurements


def _measurement(scenario: Scenario, name: str, found: ProbeSet, done: _Slices) -> Measurement:
    result = LoadResult.merge(done.results)
    if name == "rest":  # the sandbox is its own upstream: one request each
        upstream_per_request = upstream_per_request_load = 1.0
        upstream_requests = len(found.probes[0].requests)
    else:
        upstream_per_request = found.upstream_per_request
        upstream_per_request_load = done.upstream_requests / result.requests
        upstream_requests = found.most_upstream_requests
    return Measurement(
        scenario=scenario.key,
        target=name,
        requests=result.requests,
        seconds=result.seconds,
        throughput=result.throughput,
        p50_ms=result.percentile_ms(50),
        p90_ms=result.percentile_ms(90),
        p99_ms=result.percentile_ms(99),
        cpu_ms_per_request=done.cpu_seconds * 1000 / result.requests,
        peak_rss_mib=done.peak_rss_mib,
        rss_sum_mib=done.rss_sum_mib,
        upstream_per_request=upstream_per_request,
        upstream_per_request_under_load=upstream_per_request_load,
        variants=len(found.probes),
        probe_requests=len(found.probes[0].requests),
        probe_upstream_requests=upstream_requests,
    )


def _same_records(scenario: Scenario, probes: dict[str, ProbeSet]) -> None:
    """All targets must return the same records by Kombo id (in the same order, but for
    lookups)."""
    names = list(probes)
    for name in names[1:]:
        for variant, (a, b) in enumerate(
            zip(probes[names[0]].probes, probes[name].probes, strict=True)
        ):
            same = set(a.ids) == set(b.ids) if scenario.is_lookup else a.ids == b.ids
            if not same:
                raise HarnessError(
                    f"({scenario.key}) variant {variant}: {names[0]} and {name} returned "
                    "different records"
                )


def _machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "commit": commit,
    }


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(config: BenchConfig) -> Report:
    """Measure every configured scenario on every configured target; the report."""
    wrk_path()  # fail before starting anything when the load generator is missing
    scenarios = [SCENARIOS[key] for key in config.scenarios]
    report = Report(
        settings={
            "latency_ms": config.latency * 1000,
            "duration": config.load.duration,
            "warmup": config.warmup,
            "rounds": config.rounds,
            "connections": config.load.connections,
            "threads": config.load.threads,
            "workers": config.workers,
            "gateway_env": dict(config.gateway_env),
            "identical": config.identical,
        },
        machine=_machine(),
        scenario_titles={s.key: s.title for s in scenarios},
    )
    with start_stack(config) as stack:
        for scenario in scenarios:
            variants = scenario.with_variants(1 if config.identical else None)
            probes = {
                name: ProbeSet([probe(stack, name, variant) for variant in variants])
                for name in TARGET_ORDER
                if name in config.targets
                and name in stack.targets
                and stack.targets[name].serves(scenario)
            }
            _same_records(scenario, probes)
            report.measurements += measure(stack, scenario, probes, config)
    return report


def _key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _choices(allowed: Sequence[str]):  # type: ignore[no-untyped-def]
    def parse(text: str) -> tuple[str, ...]:
        chosen = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [c for c in chosen if c not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose among {','.join(allowed)}, got {text!r}")
        return chosen

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench``: run, print the tables, write them (and JSON) beside ``--output``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Load the gateway, a hand-written baseline and the REST upstream on loopback; "
        "print throughput, latency, CPU per request, RSS and upstream requests per scenario.",
    )
    parser.add_argument("--latency-ms", type=float, default=20.0, help="upstream latency (20)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target (2)")
    parser.add_argument(
        "--rounds", type=int, default=5,
        help="interleave the targets in this many slices of the duration (5)",
    )  # fmt: skip
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument(
        "--scenarios", type=_choices(tuple(SCENARIOS)), default=tuple(SCENARIOS),
        help=f"comma-separated subset of {','.join(SCENARIOS)} (all)",
    )  # fmt: skip
    parser.add_argument(
        "--targets", type=_choices(TARGET_ORDER), default=TARGET_ORDER,
        help="comma-separated subset of rest,baseline,mesh,gateway (all; mesh when installed)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=1, help="gateway and baseline workers (1)")
    parser.add_argument(
        "--gateway-env", type=_key_value, action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the gateway (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT,
        help="where to write the Markdown tables; JSON goes beside it (bench/results/latest.md)",
    )  # fmt: skip
    parser.add_argument(
        "--identical", action="store_true",
        help="replay one request per scenario, not distinct variants (coalescing, caches)",
    )  # fmt: skip
    parser.add_argument("--logs", type=Path, help="directory for the servers' logs (a temp dir)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a target of the issue is not met"
    )
    args = parser.parse_args(argv)
    if min(args.duration, args.connections, args.threads, args.rounds) < 1 or args.warmup < 0:
        parser.error("--duration, --rounds, --connections and --threads must be at least 1")
    if args.duration % args.rounds:
        parser.error("--duration must be a multiple of --rounds (wrk runs whole seconds)")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    config = BenchConfig(
        latency=args.latency_ms / 1000,
        load=LoadSettings(args.duration, args.connections, args.threads),
        warmup=args.warmup,
        rounds=args.rounds,
        scenarios=args.scenarios,
        targets=args.targets,
        workers=args.workers,
        gateway_env=dict(args.gateway_env),
        identical=args.identical,
        log_dir=args.logs,
    )
    started = time.monotonic()
    try:
        report = run(config)
    except HarnessError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    text = report.render()
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    args.output.with_suffix(".json").write_text(json.dumps(report.as_json(), indent=2) + "\n")
    _log(f"written to {args.output} and {args.output.with_suffix('.json')} "
         f"in {time.monotonic() - started:.0f} s")  # fmt: skip
    if args.check and not all(goal.met for goal in report.goals()):
        return 1
    return 0
