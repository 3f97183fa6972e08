"""``python -m bench.graph_costs`` runs, prints one row per model, and the calls it counts are
what the contract promises (CONTRACT 1.4): a page is one call, a walk one per page, completing
a page's inline records at most one per model per 250 records besides the page."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from bench.graph_costs import COLUMNS
from bench.selections import inline_records
from bench.servers import ROOT
from gateway.kombo.catalog import CATALOG


def test_graph_costs_prints_a_row_per_model_within_the_contract(tmp_path: Path) -> None:
    output = tmp_path / "costs.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.graph_costs", "--runs", "2", "--json", str(output),
         "--logs", str(tmp_path / "logs")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    table = [line for line in completed.stdout.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(CATALOG.models)  # header, rule, one row per model
    assert [cell.strip() for cell in table[0].strip("|").split("|")] == list(COLUMNS)
    assert all(line.count("|") == len(COLUMNS) + 1 for line in table)
    assert [line.split("|")[1].strip() for line in table[2:]] == [f"`{m.path}`" for m in CATALOG]

    rows = {row["model"]: row for row in json.loads(output.read_text())}
    assert set(rows) == {m.name for m in CATALOG}
    for model in CATALOG:
        row = rows[model.name]
        assert 0 < row["records"] <= 100
        assert row["page_calls"] == 1
        assert row["walk_pages"] == math.ceil(row["walk_records"] / 100)
        assert row["walk_calls"] == row["walk_pages"]
        for key in ("gateway_wall_ms", "gateway_cpu_ms", "rest_wall_ms", "rest_cpu_ms"):
            assert row[key] > 0
        has_inline = any(len(r.path) == 1 for r in inline_records(model))
        if not has_inline:
            assert row["completion_calls"] is None
            assert "no inline records" in table[2 + CATALOG.models.index(model)]
            continue
        # The page, then each completed model once (fewer than 250 records each here).
        assert row["completion_calls"] <= row["completion_bound"]
        assert all(n == 1 for n in row["completion_by_endpoint"].values())
        assert row["completion_by_endpoint"][model.path.removeprefix("/ats/")] == 1
        assert row["completion_calls"] >= 2  # the lacking fields did make it complete
