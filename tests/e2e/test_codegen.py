"""Typed scalars for frontends (issue 11 item 4), with the real tools (npm, tests/e2e/codegen/).

- GraphQL Code Generator's client preset, configured as the README's "Scalars for codegen" says
  (the same ``codegen.ts``), generates types from the committed ``schema.graphql`` for a jobs page,
  a fragment and a ``node`` refetch; ``tsc --noEmit`` then passes over ``src/app.ts``, which uses
  every DateTime as a ``string`` and ``remoteData`` as ``unknown``, and requires exactly those
  types.
- The controls: the mapping removed (DateTime is ``unknown``), DateTime mapped to ``Date`` or to
  ``any``: each makes ``tsc`` fail, so the pass above holds because of the mapping. And with the
  mapping removed but ``strictScalars`` kept, codegen itself stops, naming the scalar.
- The gateway's answers: every DateTime of real pages (jobs, interviews, applications) and the
  scalar's edge cases satisfy ``new Date(s).toISOString() === s`` in node.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.schema.scalars import serialize_datetime
from tests.support.clients import Gateway
from tests.support.servers import ROOT

CODEGEN_DIR = Path(__file__).parent / "codegen"
SCHEMA_LINE = '  schema: "../../../schema.graphql",\n'
SCALARS_LINE = '        scalars: { DateTime: "string", JSON: "unknown" },\n'
STRICT_LINE = "        strictScalars: true,\n"


def node() -> str:
    found = shutil.which("node")
    assert found, "node is required for the codegen tests"
    assert (CODEGEN_DIR / "node_modules" / "@graphql-codegen" / "cli").is_dir(), (
        "run `make codegen-deps` first"
    )
    return found


def run_node(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node(), *args],
        cwd=cwd,
        input=stdin,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def project(tmp_path: Path, config: str) -> Path:
    """A copy of tests/e2e/codegen/ with ``config`` as its codegen.ts (read against the committed
    schema.graphql) and no generated files: the repository's copy is never written."""
    out = tmp_path / "codegen"
    out.mkdir()
    shutil.copy(CODEGEN_DIR / "tsconfig.json", out)
    shutil.copytree(CODEGEN_DIR / "src", out / "src", ignore=shutil.ignore_patterns("gql"))
    (out / "node_modules").symlink_to(CODEGEN_DIR / "node_modules", target_is_directory=True)
    schema = json.dumps(str(ROOT / "schema.graphql"))
    (out / "codegen.ts").write_text(config.replace(SCHEMA_LINE, f"  schema: {schema},\n"))
    return out


def codegen(cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_node(cwd, "node_modules/@graphql-codegen/cli/esm/bin.js", "--config", "codegen.ts")


def tsc(cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_node(cwd, "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json")


def committed_config() -> str:
    config = (CODEGEN_DIR / "codegen.ts").read_text()
    for line in (SCHEMA_LINE, SCALARS_LINE, STRICT_LINE):
        assert line in config, line
    return config


def generated_and_checked(
    tmp_path: Path, config: str
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """Codegen (which must succeed) then tsc: the generated types and tsc's run."""
    cwd = project(tmp_path, config)
    run = codegen(cwd)
    assert run.returncode == 0, f"codegen failed:\n{run.stdout}\n{run.stderr}"
    return (cwd / "src" / "gql" / "graphql.ts").read_text(), tsc(cwd)


# --- the README's configuration ---------------------------------------------------------------


def test_readme_snippet_is_the_configuration_tested() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Scalars for codegen\n", 1)[1].split("\n#", 1)[0]
    blocks = re.findall(r"```ts\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, blocks
    assert blocks[0] == committed_config().replace(SCHEMA_LINE, '  schema: "schema.graphql",\n')


def test_client_preset_types_datetime_as_string_and_tsc_passes(tmp_path: Path) -> None:
    types, run = generated_and_checked(tmp_path, committed_config())
    assert run.returncode == 0, f"tsc failed:\n{run.stdout}\n{run.stderr}"
    assert "startingAt: string | null" in types
    assert "changedAt: string" in types
    assert "remoteData: unknown" in types
    assert "updatedAfter?: string | null" in types  # the variable takes the same strings back
    assert not re.search(r"\bany\b", types.split("export const", 1)[0]), "an `any` in the types"


@pytest.mark.parametrize(
    ("scalars", "reported"),
    [
        ("", "Type 'unknown' is not assignable to type 'string'"),
        ('        scalars: { DateTime: "Date", JSON: "unknown" },\n', "Type 'Date' is not"),
        ('        scalars: { DateTime: "any", JSON: "any" },\n', "does not satisfy the constraint"),
    ],
    ids=["unmapped", "Date", "any"],
)
def test_control_without_the_string_mapping_tsc_fails(
    tmp_path: Path, scalars: str, reported: str
) -> None:
    config = committed_config().replace(SCALARS_LINE, scalars)
    if not scalars:
        config = config.replace(STRICT_LINE, "")  # else codegen itself stops (next test)
    _, run = generated_and_checked(tmp_path, config)
    assert run.returncode != 0, run.stdout
    assert reported in run.stdout, run.stdout
    assert "src/app.ts" in run.stdout


def test_control_strict_scalars_stops_codegen_at_an_unmapped_scalar(tmp_path: Path) -> None:
    cwd = project(tmp_path, committed_config().replace(SCALARS_LINE, ""))
    run = codegen(cwd)
    assert run.returncode != 0
    assert "DateTime" in run.stdout + run.stderr


# --- the gateway's answers as JavaScript reads them -------------------------------------------


def not_to_iso_string(values: list[str]) -> list[str]:
    """Those of ``values`` for which node's ``new Date(s).toISOString() === s`` fails."""
    node()
    run = run_node(CODEGEN_DIR, "iso.mjs", stdin=json.dumps(values))
    assert run.returncode == 0, run.stderr
    failing: list[str] = json.loads(run.stdout)
    return failing


def date_times(value: Any, key: str = "") -> list[str]:
    """Every string under a key ending in ``At`` (the graph's DateTime fields)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in date_times(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in date_times(v, key)]
    return [value] if isinstance(value, str) and key.endswith("At") else []


PAGES = """
query Dates {
  jobs(first: 100) { nodes { openedAt closedAt remoteCreatedAt remoteUpdatedAt changedAt } }
  interviews(first: 100, filter: { includeDeleted: true }) {
    nodes { startingAt endingAt remoteCreatedAt changedAt remoteDeletedAt }
  }
  applications(first: 100) {
    nodes { remoteCreatedAt changedAt rejectedAt currentStage { changedAt } }
  }
}
"""


def test_every_datetime_answered_is_javascripts_iso_string(gateway: Gateway) -> None:
    answered = date_times(gateway.query(PAGES))
    assert len(answered) > 300, len(answered)
    assert not_to_iso_string(answered) == []
    assert not_to_iso_string(["2023-06-26T14:30:00+00:00"]) == ["2023-06-26T14:30:00+00:00"]


def test_the_scalars_edge_cases_are_javascripts_iso_strings() -> None:
    plus_two, minus_five = timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))
    values = [
        datetime(2023, 6, 26, 16, 30, 0, 123999, tzinfo=plus_two),
        datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1, 1, 1, 1, 0, tzinfo=plus_two),  # year 0 in UTC
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 0, 0, 999999, tzinfo=minus_five),  # year 10000 in UTC
    ]
    texts = [serialize_datetime(v) for v in values]
    assert "0000-12-31T23:00:00.000Z" in texts and "+010000-01-01T04:00:00.999Z" in texts
    assert not_to_iso_string(texts) == []
