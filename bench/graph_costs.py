"""What the ten-model graph costs per endpoint: upstream calls, and the time of a page.

    python -m bench.graph_costs [--runs 15] [--latency-ms 0] [--json costs.json]

Starts the bench upstream (the sandbox) and the gateway as processes (:func:`bench.harness.
start_stack`) and, for each of the ten models in the default integration, prints one row:

- **page**: upstream calls of one page of 100 with every field (:func:`bench.selections.
  all_fields_page`), counted in the sandbox's request log; the contract promises 1.
- **walk**: upstream calls of paging the whole endpoint with ``first: 100`` and ``after:
  endCursor``, and its pages; the contract promises one call per page.
- **completion**: upstream calls of a page of 100 that asks each first-level inline record for a
  field it lacks (:func:`bench.selections.completion_fields`: an interview's ``application
  { rejectedAt }``, a job's ``stages { changedAt }``), so that the gateway completes them; beside
  it the contract's bound, one call for the page plus one per completed model per 250 distinct
  records (counted in REST's page), and the calls by endpoint.
- **time**: the same all-fields page through the gateway, and straight from REST: the median
  wall time of ``--runs`` sequential requests (after two unmeasured ones), and the median CPU
  time of the server process per request (the gateway's includes its upstream call and decoding;
  REST's is the sandbox's), read from ``/proc/<pid>/task/*/schedstat`` to the nanosecond.

Every gateway answer must be free of errors, and its records must be REST's (by Kombo id), page
by page; anything else stops the run (:class:`~bench.errors.HarnessError`).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import HarnessError
from bench.harness import BenchConfig, Stack, start_stack
from bench.procfs import thread_cpu_seconds
from bench.report import markdown_table
from bench.selections import all_fields_page, completion_fields, inline_records
from gateway.kombo.catalog import CATALOG, ListShape, Model, ObjectShape, camel
from gateway.sandbox.data import INTEGRATIONS

__all__ = ["Costs", "main", "measure_costs", "render"]

PAGE = 100
"""Records per page, everywhere."""

LOOKUP_CHUNK = 250
"""Kombo's page-size bound: one ``ids=`` call completes at most this many records."""


@dataclass(frozen=True)
class Costs:
    """One model's row."""

    model: str
    endpoint: str
    records: int
    """Records on the first page (at most :data:`PAGE`)."""
    page_calls: int
    walk_calls: int
    walk_pages: int
    walk_records: int
    completed: list[str]
    """The inline records the completion query completes (``application→Application``)."""
    completion_calls: int | None
    """None: the model has no inline records."""
    completion_bound: int | None
    completion_by_endpoint: dict[str, int] = field(default_factory=dict)
    gateway_wall_ms: float = math.nan
    gateway_cpu_ms: float = math.nan
    rest_wall_ms: float = math.nan
    rest_cpu_ms: float = math.nan


class _Client:
    """The gateway and REST as the rows need them, with the upstream log around each call."""

    def __init__(self, stack: Stack, integration: str) -> None:
        self.stack = stack
        self.integration = integration

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.stack.clients["gateway"].post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-Integration-Id": self.integration},
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or body.get("errors"):
            raise HarnessError(f"gateway answered {response.status_code}: {response.text[:2000]}")
        return body["data"]  # type: ignore[no-any-return]

    def rest(self, model: Model, params: dict[str, str]) -> dict[str, Any]:
        response = self.stack.clients["rest"].get(
            "/v1" + model.path,
            params=params,
            headers={
                "Authorization": f"Bearer {self.stack.api_key}",
                "X-Integration-Id": self.integration,
            },
        )
        if response.status_code != 200:
            raise HarnessError(f"REST {model.path} answered {response.status_code}")
        return response.json()["data"]  # type: ignore[no-any-return]

    def counted(self, call: Callable[[], Any]) -> tuple[Any, list[str]]:
        """``call()``'s result and the upstream paths it requested."""
        self.stack.clear_upstream_log()
        result = call()
        return result, [str(entry["path"]) for entry in self.stack.upstream_log()]


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["komboId"] for edge in connection["edges"]]


def _agree(model: Model, what: str, gateway: list[str], rest: list[str]) -> None:
    if gateway != rest:
        raise HarnessError(
            f"{model.path} {what}: the gateway's {len(gateway)} records are not REST's {len(rest)}"
        )


def _walk(client: _Client, model: Model) -> tuple[list[str], int, list[str], int]:
    """Page the whole endpoint through the gateway and through REST: the gateway's ids, its
    upstream calls, REST's ids and pages."""
    query = all_fields_page(model, "Walk")

    def gateway_walk() -> list[str]:
        ids: list[str] = []
        after = None
        while True:
            connection = client.graphql(query, {"first": PAGE, "after": after})[model.plural]
            ids += _ids(connection)
            if not connection["pageInfo"]["hasNextPage"]:
                return ids
            after = connection["pageInfo"]["endCursor"]

    gateway_ids, calls = client.counted(gateway_walk)
    rest_ids: list[str] = []
    params = {"page_size": str(PAGE)}
    pages = 0
    while True:
        data = client.rest(model, params)
        pages += 1
        rest_ids += [record["id"] for record in data["results"]]
        if data["next"] is None:
            break
        params["cursor"] = data["next"]
    return gateway_ids, len(calls), rest_ids, pages


def _completion_bound(model: Model, records: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """The contract's bound on the completion query's calls: 1 for the page, plus one per model
    per :data:`LOOKUP_CHUNK` distinct records to complete, counted in REST's page ``records``."""
    to_complete: dict[str, set[str]] = {}
    completed = []
    for inline in inline_records(model):
        if len(inline.path) != 1 or inline.lacking is None:
            continue
        name = inline.path[0]
        completed.append(f"{camel(name)}→{inline.model}")
        shape = model.shape.field(name).shape
        while isinstance(shape, ListShape):
            shape = shape.item
        assert isinstance(shape, ObjectShape)
        ids = to_complete.setdefault(inline.model, set())
        for record in records:
            value = record.get(name)
            items = value if isinstance(value, list) else [value]
            for item in items:
                if item is None:
                    continue
                kombo_id = record.get(shape.id_from) if shape.id_from else item.get("id")
                if kombo_id is not None:
                    ids.add(kombo_id)
    bound = 1 + sum(math.ceil(len(ids) / LOOKUP_CHUNK) for ids in to_complete.values())
    return bound, completed


def _timed(runs: int, pid: int, call: Callable[[], object]) -> tuple[float, float]:
    """Median wall and median CPU (of process ``pid``) of ``runs`` calls, in ms, after two."""
    for _ in range(2):
        call()
    walls, cpus = [], []
    for _ in range(runs):
        cpu = thread_cpu_seconds(pid)
        started = time.perf_counter()
        call()
        walls.append(time.perf_counter() - started)
        cpus.append(thread_cpu_seconds(pid) - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def _model_costs(client: _Client, model: Model, runs: int) -> Costs:
    page_query = all_fields_page(model)
    rest_page = client.rest(model, {"page_size": str(PAGE)})
    rest_ids = [record["id"] for record in rest_page["results"]]

    data, page_calls = client.counted(lambda: client.graphql(page_query, {"first": PAGE}))
    _agree(model, "page", _ids(data[model.plural]), rest_ids)

    walk_ids, walk_calls, rest_walk_ids, pages = _walk(client, model)
    _agree(model, "walk", walk_ids, rest_walk_ids)

    completion = completion_fields(model)
    completion_calls: int | None = None
    bound: int | None = None
    by_endpoint: dict[str, int] = {}
    completed: list[str] = []
    if completion:
        query = (
            f"query Completion($first: Int) {{ {model.plural}(first: $first) {{ "
            f"edges {{ node {{ komboId {completion} }} }} }} }}"
        )
        data, calls = client.counted(lambda: client.graphql(query, {"first": PAGE}))
        _agree(model, "completion", _ids(data[model.plural]), rest_ids)
        completion_calls = len(calls)
        by_endpoint = dict(Counter(path.removeprefix("/v1/ats/") for path in calls))
        bound, completed = _completion_bound(model, rest_page["results"])

    gateway_pid = client.stack.servers["gateway"].pid
    rest_pid = client.stack.servers["rest"].pid
    gateway_wall, gateway_cpu = _timed(
        runs, gateway_pid, lambda: client.graphql(page_query, {"first": PAGE})
    )
    rest_wall, rest_cpu = _timed(runs, rest_pid, lambda: client.rest(model, {"page_size": "100"}))
    return Costs(
        model=model.name,
        endpoint=model.path,
        records=len(rest_ids),
        page_calls=len(page_calls),
        walk_calls=walk_calls,
        walk_pages=pages,
        walk_records=len(rest_walk_ids),
        completed=completed,
        completion_calls=completion_calls,
        completion_bound=bound,
        completion_by_endpoint=by_endpoint,
        gateway_wall_ms=gateway_wall,
        gateway_cpu_ms=gateway_cpu,
        rest_wall_ms=rest_wall,
        rest_cpu_ms=rest_cpu,
    )


def measure_costs(
    runs: int = 15,
    latency: float = 0.0,
    integration: str = INTEGRATIONS[0],
    models: Sequence[str] | None = None,
    log_dir: Path | None = None,
) -> list[Costs]:
    """One :class:`Costs` per model (all ten by default), servers started and stopped here."""
    config = BenchConfig(latency=latency, targets=("rest", "gateway"), log_dir=log_dir)
    chosen = [m for m in CATALOG if models is None or m.name in models]
    with start_stack(config) as stack:
        client = _Client(stack, integration)
        rows = []
        for model in chosen:
            print(f"graph_costs: {model.path}", file=sys.stderr, flush=True)
            rows.append(_model_costs(client, model, runs))
            stack.check_alive()
    return rows


COLUMNS = (
    "endpoint",
    "records",
    "page of 100: calls",
    "walk at first=100: calls / pages (records)",
    "100-parent completion: calls (bound) by endpoint",
    "completed inline records",
    "gateway wall ms",
    "gateway CPU ms",
    "REST wall ms",
    "REST CPU ms",
)
"""The table's columns, in order."""


def _completion_cell(row: Costs) -> str:
    if row.completion_calls is None:
        return "no inline records"
    parts = ", ".join(f"{path} {n}" for path, n in row.completion_by_endpoint.items())
    return f"{row.completion_calls} (≤ {row.completion_bound}): {parts}"


def render(rows: Sequence[Costs]) -> str:
    """The rows as one Markdown table."""
    return markdown_table(
        COLUMNS,
        [
            [
                f"`{row.endpoint}`",
                str(row.records),
                str(row.page_calls),
                f"{row.walk_calls} / {row.walk_pages} ({row.walk_records})",
                _completion_cell(row),
                ", ".join(row.completed) or "-",
                f"{row.gateway_wall_ms:.1f}",
                f"{row.gateway_cpu_ms:.1f}",
                f"{row.rest_wall_ms:.1f}",
                f"{row.rest_cpu_ms:.2f}",
            ]
            for row in rows
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.graph_costs``: measure, print the table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.graph_costs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=15, help="timed requests per model (15)")
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="upstream latency, ms (0: processing only)"
    )
    parser.add_argument("--integration", default=INTEGRATIONS[0], help="X-Integration-Id")
    parser.add_argument("--models", help="comma-separated model names (all ten)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--logs", type=Path, help="directory for the servers' logs (a temp dir)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    models = args.models.split(",") if args.models else None
    try:
        rows = measure_costs(args.runs, args.latency_ms / 1000, args.integration, models, args.logs)
    except HarnessError as exc:
        print(f"graph_costs: {exc}", file=sys.stderr)
        return 2
    print(
        f"Integration {args.integration}, upstream latency {args.latency_ms:g} ms, "
        f"times: median of {args.runs} sequential requests (one all-fields page of 100).\n"
    )
    print(render(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(row) for row in rows], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
