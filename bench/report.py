"""The results: one :class:`Measurement` per scenario and target, rendered as Markdown tables.

Three tables: the raw numbers, the gateway's ratios to the baseline and to REST (all measured
in the same run), and the issue's targets with whether each is met.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["TARGET_ORDER", "Goal", "Measurement", "Report", "markdown_table"]

TARGET_ORDER = ("rest", "baseline", "mesh", "gateway")
_TARGET_LABELS = {
    "rest": "REST (sandbox)",
    "baseline": "baseline",
    "mesh": "GraphQL Mesh",
    "gateway": "gateway",
}


@dataclass(frozen=True)
class Measurement:
    """One target under load in one scenario. Per-request figures are per HTTP request."""

    scenario: str
    target: str
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    cpu_ms_per_request: float
    """CPU time (user + system) of the target's server process tree per completed request."""
    peak_rss_mib: float
    """Largest resident set of one process of the target's server during the load."""
    upstream_per_request: float
    """Upstream requests per request, counted on one cold, sequential pass (exact)."""
    upstream_per_request_under_load: float
    """Upstream requests logged during the load per completed request (caches show here)."""
    variants: int
    """Distinct variants the load cycled through (see :mod:`bench.scenarios`)."""
    probe_requests: int
    """HTTP requests of one variant's sequential pass: 1, or the pages of a walk."""
    probe_upstream_requests: int
    """Upstream requests of one variant's sequential pass (for a walk: all its pages)."""
    rss_sum_mib: float = 0.0
    """Largest sampled sum of the resident sets of all the server's processes (workers)."""


@dataclass(frozen=True)
class Goal:
    """One of the issue's targets, as measured."""

    name: str
    measured: str
    wanted: str
    met: bool | None  # None: not measured in this run


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _x(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, its columns padded to their widest cell."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


@dataclass
class Report:
    """Everything one run measured, with its settings and the machine it ran on."""

    settings: Mapping[str, Any]
    machine: Mapping[str, Any]
    scenario_titles: Mapping[str, str]
    measurements: list[Measurement] = field(default_factory=list)

    def get(self, scenario: str, target: str) -> Measurement | None:
        for m in self.measurements:
            if m.scenario == scenario and m.target == target:
                return m
        return None

    def goals(self) -> list[Goal]:
        """The issues' targets: CPU ratios to the baseline, Mesh ratios, upstream counts, RSS."""
        goals = []
        for key, limit in (("a", 1.5), ("b", 2.0), ("e", 1.5), ("f", 1.5)):
            gateway, baseline = self.get(key, "gateway"), self.get(key, "baseline")
            if gateway and baseline:
                ratio = _ratio(gateway.cpu_ms_per_request, baseline.cpu_ms_per_request)
                goals.append(
                    Goal(
                        f"({key}) gateway CPU ÷ baseline CPU",
                        _x(ratio),
                        f"≤ {limit:g}x",
                        ratio <= limit,
                    )
                )
        goals += self._mesh_goals()
        for key, wanted, what in (
            ("c", 1, "upstream requests for 100 ids"),
            ("d", 10, "upstream requests for 1,000 interviews (first: 100)"),
            ("e", 1, "upstream requests for 100 jobs, all fields"),
            ("f", 1, "upstream requests for 100 applications, all fields"),
        ):
            gateway = self.get(key, "gateway")
            if gateway:
                count = gateway.probe_upstream_requests
                goals.append(Goal(f"({key}) {what}", str(count), f"= {wanted}", count == wanted))
        rss = [m.peak_rss_mib for m in self.measurements if m.target == "gateway"]
        if rss:
            goals.append(
                Goal(
                    "gateway peak RSS, one worker",
                    f"{max(rss):.0f} MiB",
                    "< 100 MiB",
                    max(rss) < 100,
                )
            )
        return goals

    def _mesh_goals(self) -> list[Goal]:
        """Issue 12 on (a): with as many workers as Mesh (one per core), at least twice its
        req/s; with one worker, at least its req/s; p99 below Mesh's either way."""
        gateway, mesh = self.get("a", "gateway"), self.get("a", "mesh")
        if gateway is None or mesh is None:
            return []
        workers = int(self.settings.get("workers", 1))
        equal = workers == int(self.machine.get("nproc") or 0)
        wanted = 2.0 if equal else 1.0
        ratio = _ratio(gateway.throughput, mesh.throughput)
        label = f"{workers} worker(s), as many as Mesh" if equal else f"{workers} worker(s)"
        p99 = _ratio(gateway.p99_ms, mesh.p99_ms)
        return [
            Goal(
                f"(a) gateway req/s ÷ Mesh's, {label}", _x(ratio), f"≥ {wanted:g}x", ratio >= wanted
            ),
            Goal("(a) gateway p99 ÷ Mesh's p99", _x(p99), "< 1x", p99 < 1),
        ]

    def render(self) -> str:
        """The report as Markdown: header, measurements, ratios, targets."""
        s, m = self.settings, self.machine
        lines = [
            f"Run {m['date']} on {m['cpu']} ({m['nproc']} cores), Python {m['python']}, "
            f"commit {m['commit']}.",
            f"Upstream latency {s['latency_ms']:g} ms; per target {s['duration']} s of load "
            f"after {s['warmup']} s of warm-up, {s['connections']} connections, "
            f"{s['threads']} wrk thread(s); {s['workers']} server worker(s); "
            + ("one request replayed per scenario" if s.get("identical") else "distinct variants")
            + (f"; gateway env {s['gateway_env']}" if s.get("gateway_env") else "")
            + ".",
            "",
        ]
        rows = []
        for m_ in sorted(
            self.measurements, key=lambda x: (x.scenario, TARGET_ORDER.index(x.target))
        ):
            rows.append(
                [
                    f"({m_.scenario}) {self.scenario_titles[m_.scenario]}",
                    _TARGET_LABELS[m_.target],
                    f"{m_.throughput:.0f}",
                    f"{m_.p50_ms:.1f}",
                    f"{m_.p99_ms:.1f}",
                    f"{m_.cpu_ms_per_request:.2f}",
                    f"{m_.peak_rss_mib:.0f}",
                    f"{m_.rss_sum_mib:.0f}",
                    f"{m_.upstream_per_request:.2f}",
                    f"{m_.upstream_per_request_under_load:.2f}",
                ]
            )
        lines.append(
            markdown_table(
                [
                    "scenario",
                    "target",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "CPU ms/req",
                    "peak RSS MiB",
                    "RSS sum MiB",
                    "upstream/req",
                    "upstream/req (load)",
                ],
                rows,
            )
        )
        ratio_rows = []
        for key, title in self.scenario_titles.items():
            gateway = self.get(key, "gateway")
            if gateway is None:
                continue
            baseline, rest = self.get(key, "baseline"), self.get(key, "rest")

            def of(other: Measurement | None, attr: str, g: Measurement = gateway) -> str:
                if other is None:
                    return "n/a"
                return _x(_ratio(getattr(g, attr), getattr(other, attr)))

            ratio_rows.append(
                [
                    f"({key}) {title}",
                    of(baseline, "cpu_ms_per_request"),
                    of(baseline, "p50_ms"),
                    of(rest, "p50_ms"),
                    of(baseline, "throughput"),
                    of(rest, "throughput"),
                ]
            )
        if ratio_rows:
            lines += [
                "",
                "Gateway ÷ baseline and gateway ÷ REST, same run:",
                "",
                markdown_table(
                    [
                        "scenario",
                        "CPU/req ÷ baseline",
                        "p50 ÷ baseline",
                        "p50 ÷ REST",
                        "req/s ÷ baseline",
                        "req/s ÷ REST",
                    ],
                    ratio_rows,
                ),
            ]
        mesh_rows = []
        for key, title in self.scenario_titles.items():
            gateway, mesh = self.get(key, "gateway"), self.get(key, "mesh")
            if gateway and mesh:
                mesh_rows.append(
                    [f"({key}) {title}"]
                    + [
                        _x(_ratio(getattr(gateway, attr), getattr(mesh, attr)))
                        for attr in ("throughput", "p99_ms", "cpu_ms_per_request", "rss_sum_mib")
                    ]
                )
        if mesh_rows:
            lines += [
                "",
                f"Gateway ({s['workers']} worker(s)) ÷ GraphQL Mesh (one worker per core), "
                "same run (issue 12):",
                "",
                markdown_table(
                    ["scenario", "req/s ÷ Mesh", "p99 ÷ Mesh", "CPU/req ÷ Mesh", "RSS sum ÷ Mesh"],
                    mesh_rows,
                ),
            ]
        goals = self.goals()
        if goals:
            lines += [
                "",
                "Targets (issue #12; (b) and upstream counts: issues #4 and #10):",
                "",
                markdown_table(
                    ["target", "measured", "wanted", "met"],
                    [
                        [
                            g.name,
                            g.measured,
                            g.wanted,
                            "n/a" if g.met is None else ("yes" if g.met else "NO"),
                        ]
                        for g in goals
                    ],
                ),
            ]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        """Everything, for scripts comparing runs."""
        return {
            "settings": dict(self.settings),
            "machine": dict(self.machine),
            "scenarios": dict(self.scenario_titles),
            "measurements": [asdict(m) for m in self.measurements],
            "goals": [asdict(g) for g in self.goals()],
        }
