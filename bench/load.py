"""Load with ``wrk``: a fixed number of connections for a fixed time, replaying a list of requests.

``wrk`` (Debian's package; ``make bench`` installs it) is a closed-loop generator: each connection
sends its next request as soon as the previous answer arrived. ``bench/wrk/replay.lua`` cycles
through the requests written by :func:`write_requests` and reports counts and latency percentiles
as one JSON line, read here into a :class:`LoadResult`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
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
    """What ``wrk`` saw: completed requests, errors and latency percentiles (milliseconds)."""

    requests: int
    seconds: float
    errors: dict[str, int]
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


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


def parse_result(output: str) -> LoadResult:
    """The :class:`LoadResult` in ``wrk``'s output (the ``BENCH_RESULT`` line)."""
    for line in output.splitlines():
        if line.startswith(_MARK):
            raw = json.loads(line[len(_MARK) :])
            latency = raw["latency_us"]
            return LoadResult(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=raw["errors"],
                p50_ms=latency["p50"] / 1000,
                p90_ms=latency["p90"] / 1000,
                p99_ms=latency["p99"] / 1000,
                max_ms=latency["max"] / 1000,
            )
    raise HarnessError(f"wrk printed no result line:\n{output[-2000:]}")


def wrk_path() -> str:
    """The ``wrk`` executable; :class:`HarnessError` with the fix if it is not installed."""
    path = shutil.which("wrk")
    if path is None:
        raise HarnessError("wrk is not installed: run `make wrk` (apt-get install wrk)")
    return path


def run_wrk(url: str, requests_file: Path, settings: LoadSettings) -> LoadResult:
    """Run ``wrk`` against ``url`` with the requests in ``requests_file``; fail on any error."""
    command = [
        wrk_path(),
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{settings.duration}s",
        f"--timeout={settings.timeout}s",
        "-s",
        str(REPLAY_SCRIPT),
        url,
        "--",
        str(requests_file),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=settings.duration + 60, check=False
    )
    output = completed.stdout + completed.stderr
    if completed.returncode != 0:
        raise HarnessError(f"wrk failed ({completed.returncode}):\n{output[-2000:]}")
    result = parse_result(output)
    if result.error_count:
        raise HarnessError(f"wrk saw errors against {url}: {result.errors}\n{output[-2000:]}")
    if result.requests == 0:
        raise HarnessError(f"wrk completed no request against {url}:\n{output[-2000:]}")
    return result
