"""Where the gateway's time goes: one worker under a scenario's load, sampled with py-spy.

    .venv/bin/python -m bench.profile --scenario a --seconds 15

Starts the bench upstream (:mod:`bench.upstream`) and ONE gateway worker as ``make bench`` does
(:func:`bench.harness.start_stack`), probes every variant of the scenario (the distinct
``updatedAfter`` requests the harness replays, so that coalescing cannot help), warms up, then
loads the gateway with ``wrk`` while ``py-spy record --format raw --nonblocking`` samples its
process. The collapsed stacks are read here (:func:`parse_raw`, :func:`aggregate`, pure) into
two tables, printed and written to ``bench/results/profile-<scenario>.md``:

1. the top functions by **self** share (the leaf frame of a sample, ``file:function``); a leaf
   line that calls ``orjson.loads``/``orjson.dumps`` is shown as such (py-spy sees no C frames,
   so their time lands on the calling line);
2. the share of each **layer** (by the frame's module path): inclusive (samples with at least
   one frame of the layer; rows overlap) and self (the leaf frame's layer; sums to 100 %).

py-spy samples only threads that are not waiting unless ``--idle`` is given, so shares are of busy
samples; the header gives the sample count, the wall time and the rate, hence the busy share of
the wall clock, and the process's CPU time over the window. "Busy" is the thread's state, running
*or runnable*: on a machine whose cores are taken, a thread busy 99 % of the wall clock may get
half a core, which the CPU time shows. ``--nonblocking`` does not pause the process, so a few
stacks are torn (frames from two moments): fine for shares, which is what these tables are for.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import linecache
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import HarnessError
from bench.harness import BenchConfig, ProbeSet, _machine, probe, start_stack
from bench.load import LoadResult, LoadSettings, run_wrk, write_requests, wrk_path
from bench.procfs import cpu_seconds
from bench.scenarios import SCENARIOS
from bench.servers import ROOT

__all__ = [
    "LAYERS",
    "Frame",
    "Profile",
    "Sample",
    "aggregate",
    "layer_of",
    "main",
    "parse_raw",
    "render",
]

RESULTS = ROOT / "bench" / "results"

# Layers, in table order. Inclusive rows overlap (a request's stack crosses several layers).
HTTP = "gateway/http"
EXECUTION = "gateway/execution (fast path, projections)"
SCHEMA = "gateway/schema"
UPSTREAM = "gateway/upstream"
KOMBO = "gateway/kombo"
KOMBO_LOADS = "  ↳ orjson.loads of the upstream body"
KOMBO_PARSE = "  ↳ parsing into records (parsing.py, records.py)"
KOMBO_REST = "  ↳ the rest of kombo (client, body, coalescing…)"
OBSERVABILITY = "gateway/observability"
GATEWAY_OTHER = "gateway, other (app, auth, persisted, admission…)"
UVICORN = "uvicorn/httptools"
STARLETTE = "starlette"
STRAWBERRY = "strawberry"
GRAPHQL = "graphql-core"
HTTPX = "httpx/httpcore"
EVENT_LOOP = "asyncio/event loop (asyncio, uvloop, anyio)"
DUMPS = "orjson.dumps (any caller)"
OTHER = "other (stdlib, other packages)"
IDLE = "idle"

LAYERS: tuple[str, ...] = (
    HTTP,
    EXECUTION,
    SCHEMA,
    UPSTREAM,
    KOMBO,
    KOMBO_LOADS,
    KOMBO_PARSE,
    KOMBO_REST,
    OBSERVABILITY,
    GATEWAY_OTHER,
    UVICORN,
    STARLETTE,
    STRAWBERRY,
    GRAPHQL,
    HTTPX,
    EVENT_LOOP,
    DUMPS,
    OTHER,
    IDLE,
)

_GATEWAY_DIRS = {
    "http": HTTP,
    "execution": EXECUTION,
    "schema": SCHEMA,
    "upstream": UPSTREAM,
    "kombo": KOMBO,
    "observability": OBSERVABILITY,
}
_PACKAGES = {
    "uvicorn": UVICORN,
    "httptools": UVICORN,
    "starlette": STARLETTE,
    "strawberry": STRAWBERRY,
    "graphql": GRAPHQL,
    "httpx": HTTPX,
    "httpcore": HTTPX,
    "h11": HTTPX,
    "asyncio": EVENT_LOOP,
    "uvloop": EVENT_LOOP,
    "anyio": EVENT_LOOP,
    "selectors.py": EVENT_LOOP,
}
_KOMBO_PARSE_FILES = ("parsing.py", "records.py")
_LOADS = re.compile(r"\bloads\(")
_DUMPS = re.compile(r"\bdumps\(")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>.*):(?P<line>\d+)\)$")
_THREAD = re.compile(r"^thread \((?P<id>[^)]*)\)(?::\s*(?P<name>.*))?$")
_IDLE_LEAVES = {
    # A thread whose innermost Python frame is one of these is waiting, not working (with
    # uvloop the event loop's own wait is in C, under asyncio/runners.py's run_until_complete).
    ("asyncio/runners.py", None),
    ("selectors.py", None),
    ("threading.py", "wait"),
    ("threading.py", "Condition.wait"),
    ("queue.py", "get"),
    ("queue.py", "Queue.get"),
    ("concurrent/futures/thread.py", "_worker"),
}

SourceLine = Callable[[str, int], str]
"""The text of line ``line`` of file ``file`` ("" when unknown): to see what a leaf line calls."""


@dataclass(frozen=True)
class Frame:
    """One frame of a py-spy stack: ``function (file:line)``."""

    function: str
    file: str
    line: int

    @classmethod
    def parse(cls, text: str) -> Frame:
        match = _FRAME.match(text)
        if match is None:  # a frame without a location (native, or py-spy's own markers)
            return cls(text, "", 0)
        return cls(match["function"], match["file"], int(match["line"]))


@dataclass(frozen=True)
class Sample:
    """One collapsed stack (outermost frame first) and how many samples had it."""

    thread: str
    frames: tuple[Frame, ...]
    count: int


def parse_raw(text: str) -> list[Sample]:
    """py-spy's ``--format raw`` (collapsed stacks): ``[thread (id): name;]frame;frame… count``."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            raise ValueError(f"not a collapsed stack line: {line[:200]!r}")
        parts = stack.split(";")
        thread = ""
        first = _THREAD.match(parts[0])
        if first is not None:
            thread = first["name"] or first["id"]
            parts = parts[1:]
        samples.append(Sample(thread, tuple(Frame.parse(p) for p in parts if p), int(count)))
    return samples


def short_path(path: str) -> str:
    """``path`` relative to the repository, site-packages or the stdlib (as py-spy shortens)."""
    if "/site-packages/" in path:
        return path.rsplit("/site-packages/", 1)[1]
    for base in (str(ROOT) + "/", sysconfig.get_paths()["stdlib"] + "/"):
        if path.startswith(base):
            return path[len(base) :]
    match = re.search(r"/lib/python3\.\d+/(.*)$", path)
    return match[1] if match else path


def _is_idle_leaf(frame: Frame) -> bool:
    path = short_path(frame.file)
    return any(
        path.endswith(file) and (function is None or frame.function == function)
        for file, function in _IDLE_LEAVES
    )


def layer_of(frame: Frame) -> str:
    """The layer a frame belongs to, by its module path (compiled fast paths are execution)."""
    if frame.file.startswith("<fast path for"):
        return EXECUTION
    path = short_path(frame.file)
    parts = path.split("/")
    if parts[0] == "gateway":
        return _GATEWAY_DIRS.get(parts[1], GATEWAY_OTHER) if len(parts) > 2 else GATEWAY_OTHER
    return _PACKAGES.get(parts[0], OTHER)


def _calls(frame: Frame, source: SourceLine) -> str | None:
    """``loads``/``dumps`` when the frame's line calls one (orjson's C code has no frame)."""
    if not frame.file or frame.file.startswith("<"):
        return None
    text = source(frame.file, frame.line)
    if _DUMPS.search(text):
        return "dumps"
    if _LOADS.search(text):
        return "loads"
    return None


def _entry_end(frames: Sequence[Frame]) -> int:
    """Where the work below the event loop starts: after the last ``asyncio/runners.py`` frame.

    Above it every stack holds the same entry frames (``runpy``, ``gateway/cli.py``, uvicorn's
    ``Server.run``), which would put those layers at 100 % inclusive; they are not counted.
    """
    for index in range(len(frames) - 1, -1, -1):
        if frames[index].file.endswith("asyncio/runners.py"):
            return index + 1
    return 0


def _linecache_source(file: str, line: int) -> str:
    return linecache.getline(file, line)


@dataclass
class Profile:
    """Samples added up: self by function, inclusive and self by layer, per thread."""

    total: int = 0
    by_thread: Counter[str] = field(default_factory=Counter)
    self_by_function: Counter[str] = field(default_factory=Counter)
    function_layer: dict[str, str] = field(default_factory=dict)
    inclusive: Counter[str] = field(default_factory=Counter)
    self_by_layer: Counter[str] = field(default_factory=Counter)

    def share(self, count: int) -> float:
        return 100 * count / self.total if self.total else 0.0


def aggregate(
    samples: Iterable[Sample], source: SourceLine = _linecache_source, *, idle: bool = False
) -> Profile:
    """Add up collapsed stacks (:func:`parse_raw`) by function and by layer.

    The self key of a sample is its leaf frame, ``file:function`` (file shortened), with
    ``→ orjson.loads``/``→ orjson.dumps`` when the leaf line calls it. A sample counts once in
    every layer one of its frames below the event loop's entry belongs to (inclusive: the entry
    frames, :func:`_entry_end`, are in every stack) and in its leaf's layer (self); a leaf
    line of ``gateway/kombo`` calling ``loads`` is the upstream body's decoding, any leaf line
    calling ``dumps`` is orjson's encoding. With ``idle`` (py-spy's ``--idle``), a sample whose
    leaf is a wait (the event loop's, a lock's, a pool's) is idle, in no other layer.
    """
    profile = Profile()
    for sample in samples:
        profile.total += sample.count
        profile.by_thread[sample.thread] += sample.count
        if not sample.frames:
            profile.self_by_layer[OTHER] += sample.count
            profile.inclusive[OTHER] += sample.count
            continue
        leaf = sample.frames[-1]
        if idle and _is_idle_leaf(leaf):
            key = f"{short_path(leaf.file)}:{leaf.function} (waiting)"
            profile.self_by_function[key] += sample.count
            profile.function_layer[key] = IDLE
            profile.self_by_layer[IDLE] += sample.count
            profile.inclusive[IDLE] += sample.count
            continue
        own = sample.frames[_entry_end(sample.frames) :]
        layers = {layer_of(frame) for frame in own} or {EVENT_LOOP}
        leaf_layer = layer_of(leaf)
        called = _calls(leaf, source)
        key = f"{short_path(leaf.file)}:{leaf.function}" if leaf.file else leaf.function
        if called is not None:
            key += f" → orjson.{called}"
        self_layer = shown = leaf_layer
        if called == "dumps":
            self_layer = shown = DUMPS
            layers.add(DUMPS)
        if KOMBO in layers:
            files = [frame.file for frame in sample.frames if layer_of(frame) == KOMBO]
            if called == "loads" and leaf_layer == KOMBO:
                kombo_part = KOMBO_LOADS
            elif any(f.endswith(_KOMBO_PARSE_FILES) for f in files):
                kombo_part = KOMBO_PARSE
            else:
                kombo_part = KOMBO_REST
            layers.add(kombo_part)
            if leaf_layer == KOMBO and self_layer == KOMBO:
                profile.self_by_layer[kombo_part] += sample.count  # a breakdown of kombo's
                shown = f"{KOMBO}: {kombo_part.strip('↳ ')}"
        profile.self_by_function[key] += sample.count
        profile.function_layer.setdefault(key, shown)
        profile.self_by_layer[self_layer] += sample.count
        for layer in layers:
            profile.inclusive[layer] += sample.count
    return profile


@dataclass(frozen=True)
class RunInfo:
    """What the tables' header says about the run."""

    command: str
    scenario: str
    seconds: float
    """Wall time py-spy sampled."""
    rate: int
    idle: bool
    cpu_seconds: float | None = None
    """The gateway process's CPU time (user + system, /proc) over the sampled window."""
    load: LoadResult | None = None
    spy_summary: str = ""
    machine: dict[str, object] = field(default_factory=dict)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if r else "-" * (w + 2) for w, r in
                          zip(widths, right, strict=True)) + "|"  # fmt: skip
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def render(profile: Profile, info: RunInfo, top: int = 25) -> str:
    """The header and the two tables, in Markdown."""
    title = SCENARIOS[info.scenario].title if info.scenario in SCENARIOS else info.scenario
    possible = info.rate * info.seconds
    lines = [
        f"# Where the time goes: scenario ({info.scenario}) {title}, one gateway worker",
        "",
        f"`{info.command}`",
        "",
    ]
    if info.machine:
        m = info.machine
        lines.append(
            f"{m.get('date')}, commit {m.get('commit')}, {m.get('cpu')} ({m.get('nproc')} "
            f"cores), Python {m.get('python')}."
        )
    if info.load is not None:
        load = info.load
        lines.append(
            f"Load (wrk, over the sampled window and a second either side): "
            f"{load.throughput:.0f} req/s, p50 {load.percentile_ms(50):.1f} ms, "
            f"p99 {load.percentile_ms(99):.1f} ms."
        )
    lines.append(
        f"Samples: {profile.total:,} in {info.seconds:.1f} s of wall time at {info.rate} Hz "
        f"({possible:,.0f} possible per thread)."
    )
    for thread, count in profile.by_thread.most_common():
        lines.append(
            f"- thread {thread or '(all)'}: {count:,} samples = {100 * count / possible:.0f} % "
            "of the wall clock" + ("" if info.idle else " busy (running or runnable)")
        )
    if info.cpu_seconds is not None:
        cpu = 100 * info.cpu_seconds / info.seconds
        busiest = 100 * max(profile.by_thread.values(), default=0) / possible
        lines.append(
            f"- the gateway process's CPU time over the window: {info.cpu_seconds:.2f} s = "
            f"{cpu:.0f} % of one core"
            + (" (busy above CPU: the thread was runnable, waiting for a core)"
               if not info.idle and busiest > cpu + 10 else "")
        )  # fmt: skip
    if not info.idle:
        lines.append(
            "py-spy ran without `--idle`: waiting threads are not sampled, so every share below "
            "is a share of busy samples (idle = wall clock minus the busy share above)."
        )
    if info.spy_summary:
        lines.append(f"py-spy: {info.spy_summary}")
    lines += ["", f"## Top {top} functions by self share", ""]
    rows = [
        [str(i), f"{profile.share(count):.1f}", key, profile.function_layer.get(key, "").strip()]
        for i, (key, count) in enumerate(profile.self_by_function.most_common(top), 1)
    ]
    lines.append(
        _table(["#", "self %", "file:function", "layer"], rows, [True, True, False, False])
    )
    lines += [
        "",
        "## By layer",
        "",
        "Inclusive: samples with at least one frame in the layer, below the event loop's entry "
        "frames (rows overlap; a task's stack starts at the task, so the upstream fetch, its own "
        "task, is not under gateway/http). Self: samples whose innermost frame is in it (sums "
        "to 100 % without the ↳ rows, which break gateway/kombo down).",
        "",
    ]
    rows = []
    for layer in LAYERS:
        if layer == IDLE and not info.idle:
            busy = 100 * max(profile.by_thread.values(), default=0) / possible
            rows.append([layer, "not sampled", f"≈ {max(0.0, 100 - busy):.0f} % of wall clock"])
            continue
        rows.append(
            [
                layer,
                f"{profile.share(profile.inclusive[layer]):.1f}",
                f"{profile.share(profile.self_by_layer[layer]):.1f}",
            ]
        )
    lines.append(_table(["layer", "inclusive %", "self %"], rows, [False, True, True]))
    return "\n".join(lines) + "\n"


def py_spy_path() -> str:
    """py-spy beside this Python (the dev dependencies), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if found is None:
        raise HarnessError("py-spy is not installed: it is a dev dependency (make install)")
    return found


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, command: str) -> tuple[Profile, RunInfo, str]:
    """Start the stack, load the gateway, sample it; the profile, the run's facts, the raw text."""
    wrk_path()
    spy = py_spy_path()
    scenario = SCENARIOS[args.scenario]
    config = BenchConfig(
        latency=args.latency_ms / 1000,
        targets=("rest", "gateway"),
        workers=1,
        gateway_env={"GATEWAY_WORKERS": "1", **dict(args.gateway_env)},
    )
    with start_stack(config) as stack, tempfile.TemporaryDirectory(prefix="kombo-prof-") as tmp:
        gateway = stack.servers["gateway"]
        variants = scenario.with_variants()
        found = ProbeSet([probe(stack, "gateway", variant) for variant in variants])
        requests = write_requests(found.requests, Path(tmp) / "gateway.tsv")
        load = LoadSettings(duration=args.warmup, connections=args.connections)
        if args.warmup > 0:
            _log(f"({scenario.key}) warm-up, {args.warmup} s")
            run_wrk(gateway.url, requests, load)
        # The load starts a second before sampling and ends a second after, so that the sampled
        # window is all under load.
        loaded = dataclasses.replace(load, duration=args.seconds + 2)
        outcome: dict[str, LoadResult | BaseException] = {}

        def load_it() -> None:
            try:
                outcome["result"] = run_wrk(gateway.url, requests, loaded)
            except BaseException as exc:  # reported in the main thread
                outcome["error"] = exc

        loader = threading.Thread(target=load_it, name="wrk")
        loader.start()
        time.sleep(1)
        raw = Path(tmp) / "profile.txt"
        spy_command = [
            spy, "record", "--pid", str(gateway.pid), "--format", "raw",
            "--rate", str(args.rate), "--duration", str(args.seconds), "--nonblocking",
            "--full-filenames", "--threads", "-o", str(raw),
            *(["--idle"] if args.idle else []),
        ]  # fmt: skip
        _log(f"({scenario.key}) sampling the gateway (pid {gateway.pid}) for {args.seconds} s")
        cpu_before, started = cpu_seconds(gateway.pid), time.monotonic()
        spied = subprocess.run(spy_command, capture_output=True, text=True)
        wall, cpu = time.monotonic() - started, cpu_seconds(gateway.pid) - cpu_before
        loader.join()
        if "error" in outcome:
            raise HarnessError(f"load failed: {outcome['error']}")
        if spied.returncode != 0 or not raw.exists():
            raise HarnessError(f"py-spy failed ({spied.returncode}):\n{spied.stderr[-2000:]}")
        stack.check_alive()
        text = raw.read_text()
        summary = re.search(r"Samples: \d+ Errors: \d+", spied.stderr)
        result = outcome["result"]
        assert isinstance(result, LoadResult)
    info = RunInfo(
        command=command,
        scenario=scenario.key,
        seconds=min(wall, float(args.seconds)),
        rate=args.rate,
        idle=args.idle,
        cpu_seconds=cpu * min(1.0, args.seconds / wall),
        load=result,
        spy_summary=summary[0] if summary else "",
        machine=_machine(),
    )
    return aggregate(parse_raw(text), idle=args.idle), info, text


def _key_value(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description="Sample one gateway worker under a scenario's load with py-spy; print the "
        "top functions by self share and the share of each layer.",
    )
    parser.add_argument("--scenario", choices=tuple(SCENARIOS), default="a", help="(a)")
    parser.add_argument("--seconds", type=int, default=15, help="seconds sampled (15)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (250)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up (2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="upstream latency (20)")
    parser.add_argument("--top", type=int, default=25, help="functions in the first table (25)")
    parser.add_argument(
        "--idle", action="store_true",
        help="sample waiting threads too (py-spy --idle); waits count as the idle layer",
    )  # fmt: skip
    parser.add_argument(
        "--gateway-env", type=_key_value, action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the gateway (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path,
        help="the Markdown tables (bench/results/profile-<scenario>.md); the raw stacks beside",
    )  # fmt: skip
    parser.add_argument(
        "--raw", type=Path, metavar="FILE",
        help="no run: read the stacks of an earlier one (py-spy --format raw, e.g. the .txt "
        "beside the tables), sampled for --seconds at --rate",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if min(args.seconds, args.rate, args.connections, args.top) < 1 or args.warmup < 0:
        parser.error("--seconds, --rate, --connections and --top must be at least 1")
    output = args.output or RESULTS / f"profile-{args.scenario}.md"
    command = "python -m bench.profile " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        if args.raw is not None:
            raw = args.raw.read_text()
            info = RunInfo(command.strip(), args.scenario, args.seconds, args.rate, args.idle)
            profile = aggregate(parse_raw(raw), idle=args.idle)
        else:
            profile, info, raw = run(args, command.strip())
    except HarnessError as exc:
        print(f"bench.profile: {exc}", file=sys.stderr)
        return 2
    if profile.total == 0:
        print("bench.profile: py-spy took no sample", file=sys.stderr)
        return 2
    text = render(profile, info, args.top)
    print(text)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    if args.raw is None:
        output.with_suffix(".txt").write_text(raw)
    _log(f"written to {output} (raw stacks: {output.with_suffix('.txt')}) at "
         f"{dt.datetime.now(dt.UTC):%H:%M:%S} UTC")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
