"""The GraphQL Mesh target's setup, without Mesh: the spec rewrite, the config, the documents.

Mesh itself (npm, ``make mesh-deps``) is installed by ``make bench`` only, not by ``make test``;
running it is ``python -m bench --targets rest,mesh`` (bench/README.md).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from graphql import build_schema, parse, validate

from bench.errors import HarnessError
from bench.graphql_mesh import (
    MESH_OPERATIONS,
    SPEC,
    MeshTarget,
    mesh_bin,
    mesh_serves,
    openapi_30,
    page_document,
    write_mesh_project,
)
from bench.harness import BenchConfig, _wants_mesh
from bench.report import Measurement, Report
from bench.scenarios import SCENARIOS


def _walk(node: object) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def test_the_spec_is_rewritten_to_openapi_30_nullables() -> None:
    original = yaml.safe_load(SPEC.read_text())
    nullable_before = sum(
        1 for d in _walk(original) if isinstance(d.get("type"), list) and "null" in d["type"]
    )
    assert nullable_before > 200  # Kombo's 3.1 document: type: [string, "null"] and alike
    rewritten = openapi_30(original)
    nodes = _walk(rewritten)
    assert rewritten["openapi"] == "3.0.3" and "webhooks" not in rewritten
    assert not [d for d in nodes if isinstance(d.get("type"), list)]
    assert sum(1 for d in nodes if d.get("nullable") is True) == nullable_before
    assert not [d for d in nodes if d.get("enum") == ["true", "false"] and "default" in d]
    assert not [d for d in nodes if d.get("type") == "number" and "minimum" in d]
    assert rewritten["paths"].keys() == original["paths"].keys()
    assert isinstance(original["openapi"], str) and original["openapi"].startswith("3.1")


def test_a_type_without_a_30_form_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot express"):
        openapi_30({"openapi": "3.1.0", "components": {"x": {"type": ["string", "integer"]}}})


def test_the_project_points_mesh_at_the_upstream_with_the_key(tmp_path: Path) -> None:
    config = write_mesh_project(tmp_path, "http://127.0.0.1:1234/v1", "bench-key", 4321)
    meshrc = yaml.safe_load(config.read_text())
    (source,) = meshrc["sources"]
    handler = source["handler"]["openapi"]
    assert handler["endpoint"] == "http://127.0.0.1:1234/v1"
    assert handler["operationHeaders"] == {"Authorization": "Bearer bench-key"}
    assert meshrc["serve"] == {"hostname": "127.0.0.1", "port": 4321, "playground": False}
    spec = yaml.safe_load((tmp_path / handler["source"]).read_text())
    assert spec["openapi"] == "3.0.3"
    for operation in MESH_OPERATIONS.values():
        assert any(p["get"]["operationId"] == operation for p in spec["paths"].values())


# A miniature of Mesh's generated schema: a success | error union per page, a header argument,
# a union whose members type a field alike-named differently (aliased apart).
MINI_MESH_SCHEMA = """
scalar UpdatedAfter
scalar JSON
type Query {
  GetAtsJobs(cursor: String, page_size: Float, updated_after: UpdatedAfter,
             X_Integration_Id: String!, ids: String): GetAtsJobs_response
}
union GetAtsJobs_response = GetAtsJobsPositiveResponse | ErrorResponse
type ErrorResponse { status: String error: JSON }
type GetAtsJobsPositiveResponse { status: String! data: JobsData! }
type JobsData { next: String results: [Job]! }
type Job { id: String! name: String remote_data: JSON questions: [Question] }
type Question { id: String format: Format }
union Format = TextFormat | SelectFormat
type TextFormat { display_type: String max_length: Float }
type SelectFormat { display_type: [String] options: [Option] }
type Option { id: String name: String }
"""


def test_the_page_document_selects_every_field_and_is_valid() -> None:
    schema = build_schema(MINI_MESH_SCHEMA)
    document = page_document(schema, "GetAtsJobs")
    assert not validate(schema, parse(document))
    assert "$X_Integration_Id: String!" in document and "$updated_after: UpdatedAfter" in document
    assert "ids:" not in document  # only the page's arguments
    for field in ("next", "remote_data", "TextFormat_display_type: display_type", "options"):
        assert field in document
    assert "ErrorResponse" not in document


def test_the_mesh_target_asks_for_distinct_pages_and_reads_ids() -> None:
    schema = build_schema(MINI_MESH_SCHEMA)
    target = MeshTarget(schema)
    e0, e1 = SCENARIOS["e"].with_variants(2)
    assert target.serves(e0) and not target.serves(SCENARIOS["a"])  # no interviews in the mini
    r0, r1 = target.request(e0, None), target.request(e1, "next-page")
    assert r0.body != r1.body and b'"cursor":"next-page"' in (r1.body or b"")
    answer = target.read(
        e0,
        httpx.Response(
            200,
            json={
                "data": {
                    "GetAtsJobs": {
                        "status": "success",
                        "data": {"next": None, "results": [{"id": "j1"}]},
                    }
                }
            },
        ),
    )
    assert (answer.ids, answer.next_cursor) == (["j1"], None)
    with pytest.raises(HarnessError, match="mesh answered with errors"):
        target.read(e0, httpx.Response(200, json={"errors": [{"message": "x"}], "data": None}))


def test_mesh_serves_the_all_fields_pages_only() -> None:
    assert [key for key, s in SCENARIOS.items() if mesh_serves(s)] == ["a", "d", "e", "f"]


def test_without_mesh_installed_the_run_goes_on_without_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import bench.harness

    monkeypatch.setattr(bench.harness, "mesh_bin", lambda: mesh_bin(tmp_path))
    assert not _wants_mesh(BenchConfig(scenarios=("a",)))
    assert "GraphQL Mesh: skipped, not installed" in capsys.readouterr().err
    assert not _wants_mesh(BenchConfig(scenarios=("c",), targets=("rest", "mesh")))
    assert "serves none of these scenarios" in capsys.readouterr().err
    assert not _wants_mesh(BenchConfig(targets=("rest", "gateway")))


def test_the_report_divides_the_gateway_by_mesh() -> None:
    def measured(target: str, throughput: float, rss_sum: float) -> Measurement:
        return Measurement(
            scenario="a", target=target, requests=100, seconds=1.0, throughput=throughput,
            p50_ms=5.0, p90_ms=6.0, p99_ms=9.0, cpu_ms_per_request=2.0, peak_rss_mib=60.0,
            upstream_per_request=1.0, upstream_per_request_under_load=1.0, variants=16,
            probe_requests=1, probe_upstream_requests=1, rss_sum_mib=rss_sum,
        )  # fmt: skip

    report = Report(
        settings={"latency_ms": 20, "duration": 10, "warmup": 2, "rounds": 5, "connections": 8,
                  "threads": 1, "workers": 1},
        machine={"date": "today", "cpu": "cpu", "nproc": 2, "python": "3", "commit": "x"},
        scenario_titles={"a": "one page"},
        measurements=[measured("mesh", 100.0, 800.0), measured("gateway", 150.0, 80.0)],
    )  # fmt: skip
    text = report.render()
    assert "| GraphQL Mesh " in text
    assert "Gateway (1 worker(s)) ÷ GraphQL Mesh" in text
    assert "| (a) one page | 1.50x        | 1.00x      | 1.00x          | 0.10x" in text
