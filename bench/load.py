"""Load with ``wrk``: a fixed number of connections for a fixed time, replaying a list of requests.

``wrk`` (Debian's package; ``make bench`` installs it) is a closed-loop generator: each connection
sends its next request as soon as the previous answer arrived. Each run ends with a drain (see
``bench/wrk/replay.lua``): every request sent is answered, so that the server's CPU time is all
spent on requests that are counted. ``bench/wrk/replay.lua`` cycles
through the requests written by :func:`write_requests` and reports counts and its latency
distribution (1,000 quantiles) as one JSON line, read here into a :class:`LoadResult`; results
of several runs merge (:meth:`LoadResult.merge`).
"""

from __future__ import annotations

import json
import math
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import HarnessError
from bench.scenarios import HttpRequest

__all__ = ["LoadResult", "LoadSettings", "parse_result", "run_wrk", "write_requests"]

REPLAY_SCRIPT = Path(__file__).resolve().parent / "wrk" / "replay.lua"
_MARK = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadSettings:
    """How hard and how long: ``wrk -t THREADS -c CONNECTIONS -d DURATION``."""

    duration: int = 10
    connections: int = 8
    threads: int = 1
    timeout: int = 10


@dataclass(frozen=True)
class LoadResult:
    """What ``wrk`` saw, or several runs of it merged: counts, errors, latency histogram."""

    requests: int
    """Completed requests, those of the drain included: every request the server was sent."""
    late: int
    """Requests that completed during the drain, after the seconds of load."""
    seconds: float
    """Seconds of load (the drain excluded)."""
    errors: dict[str, int]
    latency_us: tuple[tuple[float, float], ...]
    """The latency distribution: (microseconds, weight in requests) points, sorted. From one
    run, its 1,000 quantiles, each weighing a thousandth of its requests."""

    @property
    def throughput(self) -> float:
        """Requests completed within the seconds of load, per second."""
        return (self.requests - self.late) / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile_ms(self, percent: float) -> float:
        """The smallest latency that ``percent`` % of the requests did not exceed, in ms."""
        total = sum(weight for _, weight in self.latency_us)
        if total == 0:
            return math.nan
        wanted, seen = total * percent / 100 * (1 - 1e-9), 0.0
        for us, weight in self.latency_us:
            seen += weight
            if seen >= wanted:
                return us / 1000
        return self.latency_us[-1][0] / 1000

    @classmethod
    def merge(cls, results: Sequence[LoadResult]) -> LoadResult:
        """Several runs as one: counts and durations added, latency distributions merged."""
        errors: Counter[str] = Counter()
        for result in results:
            errors.update(result.errors)
        return cls(
            requests=sum(r.requests for r in results),
            late=sum(r.late for r in results),
            seconds=sum(r.seconds for r in results),
            errors=dict(errors),
            latency_us=tuple(sorted(point for r in results for point in r.latency_us)),
        )


def write_requests(requests: Sequence[HttpRequest], path: Path) -> Path:
    """Write ``requests`` in ``replay.lua``'s format: METHOD, PATH, BODY, headers; tab-separated."""
    lines = []
    for request in requests:
        body = (request.body or b"").decode()
        fields = [request.method, request.path, body]
        fields += [f"{name}: {value}" for name, value in request.headers.items()]
        if any("\t" in f or "\n" in f for f in fields):
            raise HarnessError(f"a request field holds a tab or newline: {request.path}")
        lines.append("\t".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return path


def parse_result(output: str, seconds: float) -> LoadResult:
    """The :class:`LoadResult` in ``wrk``'s output (the ``BENCH_RESULT`` line) of a run whose
    load lasted ``seconds`` (before the drain)."""
    for line in output.splitlines():
        if line.startswith(_MARK):
            raw = json.loads(line[len(_MARK) :])
            quantiles = raw["quantiles_us"]
            weight = raw["requests"] / len(quantiles) if quantiles else 0.0
            return LoadResult(
                requests=raw["requests"],
                late=raw["late"],
                seconds=seconds,
                errors=raw["errors"],
                latency_us=tuple(sorted((float(us), weight) for us in quantiles)),
            )
    raise HarnessError(f"wrk printed no result line:\n{output[-2000:]}")


def wrk_path() -> str:
    """The ``wrk`` executable; :class:`HarnessError` with the fix if it is not installed."""
    path = shutil.which("wrk")
    if path is None:
        raise HarnessError("wrk is not installed: run `make wrk` (apt-get install wrk)")
    return path


def run_wrk(url: str, requests_file: Path, settings: LoadSettings) -> LoadResult:
    """Load ``url`` with the requests in ``requests_file``, drain, and read; fail on any error.

    ``replay.lua`` stops sending when ``settings.duration`` is over and prints ``BENCH_DRAINED``
    per thread once its last answer is in; then ``wrk`` is sent SIGINT, which makes it stop and
    report at once (its ``-d`` is only a cap, in case an answer never comes).
    """
    per_thread = settings.connections // settings.threads
    cap = settings.duration + settings.timeout + 5
    command = [
        wrk_path(),
        f"-t{settings.threads}",
        f"-c{per_thread * settings.threads}",
        f"-d{cap}s",
        f"--timeout={settings.timeout}s",
        "-s",
        str(REPLAY_SCRIPT),
        url,
        "--",
        str(requests_file),
        str(settings.duration),
        str(per_thread),
    ]
    lines: list[str] = []
    drained = 0
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith("BENCH_DRAINED"):
                drained += 1
                if drained == settings.threads:
                    process.send_signal(signal.SIGINT)
        returncode = process.wait()
    output = "".join(lines)
    if returncode != 0:
        raise HarnessError(f"wrk failed ({returncode}):\n{output[-2000:]}")
    if drained < settings.threads:
        raise HarnessError(
            f"requests to {url} still unanswered {cap - settings.duration} s after the load "
            f"ended:\n{output[-2000:]}"
        )
    result = parse_result(output, settings.duration)
    if result.error_count:
        raise HarnessError(f"wrk saw errors against {url}: {result.errors}\n{output[-2000:]}")
    if result.requests == 0:
        raise HarnessError(f"wrk completed no request against {url}:\n{output[-2000:]}")
    return result
