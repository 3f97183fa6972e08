"""Normalized client caches keep records that share a Kombo id apart (CONTRACT §1.3), with the
real clients (npm, in tests/e2e/clients/) against the live gateway.

Kombo ids are unique within one model only, and the sandbox gives records of different models the
same Kombo id on purpose (``shared_ids_for``). These tests load three such pairs (a Job and a
Candidate, a User and a Candidate, a Job and a User) and prove:

- Relay: relay-compiler (the npm package's own binary) compiles ``@refetchable`` fragments on Job,
  Candidate and User against the committed schema.graphql, generating refetch queries on
  ``node(id:)``: it can only if the schema has the Node interface and ``Query.node``, and a schema
  without ``Query.node`` is refused. relay-runtime then runs the generated query and every refetch
  query against the gateway: its Store holds one record per global id, each with its own
  ``__typename`` and fields, and each refetch reads back the same data.
- Apollo Client: InMemoryCache, both by default and Relay-style (normalized by ``id`` alone), has
  one entry per record with its own ``__typename`` and fields, and every query reads back right.
- The controls: keyed by ``komboId`` instead, the same scripts see the records collide (fewer
  records than loaded, wrong typenames, mixed fields, Relay's own warnings), so the assertions
  above hold because of the global ids, not vacuously.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gateway.sandbox.data import records_for, shared_ids_for
from tests.support.servers import DEFAULT_INTEGRATION, ROOT

CLIENTS_DIR = Path(__file__).parent / "clients"

# What each type's fragment (src/Clients.js) and Apollo query (apollo.mjs) select besides
# __typename, id and komboId: GraphQL field name → the sandbox payload's field.
FIELDS = {
    "Job": {"name": "name"},
    "Candidate": {"firstName": "first_name", "lastName": "last_name"},
    "User": {"firstName": "first_name", "lastName": "last_name", "email": "email"},
}
ROOT_FIELDS = {"Job": "job", "Candidate": "candidate", "User": "user"}

# ClientsQuery's variables (one shared Kombo id each) and its aliases: alias → (type, variable).
PAIRS = {
    "jobAndCandidate": ("Job", "Candidate"),
    "userAndCandidate": ("User", "Candidate"),
    "jobAndUser": ("Job", "User"),
}
ALIASES = {
    "jcJob": ("Job", "jobAndCandidate"),
    "jcCandidate": ("Candidate", "jobAndCandidate"),
    "ucUser": ("User", "userAndCandidate"),
    "ucCandidate": ("Candidate", "userAndCandidate"),
    "juJob": ("Job", "jobAndUser"),
    "juUser": ("User", "jobAndUser"),
}


def pick_shared_ids() -> dict[str, str]:
    """For each pair of types, a Kombo id that a record of each holds (the first, sorted)."""
    shared = shared_ids_for(DEFAULT_INTEGRATION)
    picked = {}
    for variable, types in PAIRS.items():
        candidates = sorted(kombo_id for kombo_id, models in shared.items() if set(types) <= models)
        assert candidates, f"the sandbox has no Kombo id shared by a {types[0]} and a {types[1]}"
        picked[variable] = candidates[0]
    return picked


SHARED = pick_shared_ids()
# Every record loaded, in the order the Apollo script loads them: (type, Kombo id).
LOADED = [(ALIASES[alias][0], SHARED[ALIASES[alias][1]]) for alias in ALIASES]


def gid(typename: str, kombo_id: str) -> str:
    return f"gid://kombo/{typename}/{kombo_id}"


def expected(typename: str, kombo_id: str) -> dict[str, Any]:
    """The record as a client holds it, from the sandbox's own data."""
    (payload,) = [
        r.payload for r in records_for(DEFAULT_INTEGRATION, typename) if r.payload["id"] == kombo_id
    ]
    assert payload["remote_deleted_at"] is None, f"{typename} {kombo_id} is deleted"
    return {
        "__typename": typename,
        "id": gid(typename, kombo_id),
        "komboId": kombo_id,
        **{field: payload.get(key) for field, key in FIELDS[typename].items()},
    }


def run_node(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is required for the client tests"
    assert (CLIENTS_DIR / "node_modules" / "relay-compiler").is_dir(), (
        "run `make clients-deps` first"
    )
    return subprocess.run(
        [node, str(CLIENTS_DIR / script), *args],
        # Development builds log Relay's own warnings, which the controls look for.
        env={**os.environ, "NODE_ENV": "development"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def run_json(script: str, *args: str) -> Any:
    run = run_node(script, *args)
    assert run.returncode == 0, f"{script} failed:\n{run.stderr}"
    return json.loads(run.stdout)


def compile_relay(out: Path, schema: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_node("compile.mjs", str(out), *([str(schema)] if schema else []))


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """relay-compiler's output for src/Clients.js against the committed schema.graphql."""
    out = tmp_path_factory.mktemp("relay")
    run = compile_relay(out)
    assert run.returncode == 0, f"relay-compiler failed:\n{run.stderr}"
    return out


# --- Relay -----------------------------------------------------------------------------------


def test_relay_compiler_generates_a_node_refetch_query_per_refetchable_fragment(
    artifacts: Path,
) -> None:
    generated = artifacts / "__generated__"
    for typename in FIELDS:
        query = (generated / f"Clients{typename}RefetchQuery.graphql.js").read_text()
        # The operation text, JSON-escaped in the artifact.
        heading = f"query Clients{typename}RefetchQuery(\\n  $id: ID!\\n) {{\\n  node(id: $id) {{"
        assert heading in query
        fragment = (generated / f"Clients_{typename.lower()}.graphql.js").read_text()
        assert f"require('./Clients{typename}RefetchQuery.graphql')" in fragment


def test_relay_compiler_refuses_refetchable_without_query_node(tmp_path: Path) -> None:
    # The check above is a real one: the same fragments against the schema less `Query.node`.
    schema = (ROOT / "schema.graphql").read_text()
    without_node, count = re.subn(r"\n  node\(id: ID!\): Node\n", "\n", schema)
    assert count == 1
    (tmp_path / "schema.graphql").write_text(without_node)

    run = compile_relay(tmp_path / "out", tmp_path / "schema.graphql")

    assert run.returncode != 0
    for typename in FIELDS:
        assert f"Invalid use of @refetchable on fragment 'Clients_{typename.lower()}'" in run.stderr


def run_relay(gateway_url: str, artifacts: Path, *flags: str) -> Any:
    return run_json(
        "relay.mjs", f"{gateway_url}/graphql", str(artifacts), json.dumps(SHARED), *flags
    )


def root_key(typename: str, kombo_id: str) -> str:
    """Relay's storage key of a root lookup, e.g. `job(id:"…")`."""
    return f'{ROOT_FIELDS[typename]}(id:"{kombo_id}")'


def test_relay_store_holds_one_record_per_global_id_and_refetches_by_node(
    gateway_url: str, artifacts: Path
) -> None:
    report = run_relay(gateway_url, artifacts)

    assert report["warnings"] == []
    for exchange in report["exchanges"]:
        assert exchange["status"] == 200 and "errors" not in exchange["response"], exchange
    # Every fragment reads its own record.
    wanted = {alias: expected(t, SHARED[variable]) for alias, (t, variable) in ALIASES.items()}
    assert report["fragments"] == wanted

    # The Store: one record per global id (six, for three Kombo ids), each its type's own.
    records = dict(report["records"])
    root = records.pop("client:root")
    assert records == {
        gid(t, kombo_id): {"__id": gid(t, kombo_id), **expected(t, kombo_id)}
        for t, kombo_id in LOADED
    }
    assert {key: value for key, value in root.items() if not key.startswith("__")} == {
        root_key(t, kombo_id): {"__ref": gid(t, kombo_id)} for t, kombo_id in LOADED
    }

    # Each generated refetch query asked `node(id:)` with the global id and read the same data.
    assert [r["alias"] for r in report["refetches"]] == list(ALIASES)
    for refetch in report["refetches"]:
        record = wanted[refetch["alias"]]
        assert refetch["query"] == f"Clients{record['__typename']}RefetchQuery"
        assert "node(id: $id)" in refetch["text"]
        assert refetch["variables"] == {"id": record["id"]}
        assert refetch["response"] == {"data": {"node": record}}
        assert refetch["data"] == record

    # And the refetches left every record as it was, the root now pointing `node(id:)` at it.
    after = dict(report["recordsAfterRefetches"])
    after_root = after.pop("client:root")
    assert after == records
    for t, kombo_id in LOADED:
        assert after_root[f'node(id:"{gid(t, kombo_id)}")'] == {"__ref": gid(t, kombo_id)}


def test_control_relay_store_keyed_by_kombo_id_merges_the_records(
    gateway_url: str, artifacts: Path
) -> None:
    report = run_relay(gateway_url, artifacts, "--data-id=komboId")

    records = dict(report["records"])
    records.pop("client:root")
    # Three records for six: each pair in one, its typename the last written, fields mixed.
    assert sorted(records) == sorted(SHARED.values())
    for variable, (first, second) in PAIRS.items():
        record = records[SHARED[variable]]
        assert record["__typename"] == second
        assert set(FIELDS[first]) | set(FIELDS[second]) <= set(record)
    wrong = {
        alias
        for alias, (t, variable) in ALIASES.items()
        if report["fragments"][alias] != expected(t, SHARED[variable])
    }
    assert wrong == {"jcJob", "ucUser", "juJob"}
    assert any("conflicting types" in warning for warning in report["warnings"])


# --- Apollo Client ---------------------------------------------------------------------------


def run_apollo(gateway_url: str, cache: str) -> Any:
    return run_json("apollo.mjs", f"{gateway_url}/graphql", json.dumps(LOADED), f"--cache={cache}")


def as_queried(typename: str, kombo_id: str) -> dict[str, Any]:
    return {ROOT_FIELDS[typename]: expected(typename, kombo_id)}


@pytest.mark.parametrize("cache", ["default", "id"], ids=["default config", "by id alone"])
def test_apollo_cache_holds_one_entry_per_record(gateway_url: str, cache: str) -> None:
    report = run_apollo(gateway_url, cache)

    assert report["warnings"] == []
    # Each query: what the gateway sent, what the query returned and what the cache reads back
    # after every other record was written are all the record itself.
    for result, (t, kombo_id) in zip(report["results"], LOADED, strict=True):
        assert (result["typename"], result["id"], result["error"]) == (t, kombo_id, None)
        assert result["network"] == result["query"] == result["cached"] == as_queried(t, kombo_id)

    extract = dict(report["extract"])
    root = extract.pop("ROOT_QUERY")

    def key(t: str, kombo_id: str) -> str:
        return gid(t, kombo_id) if cache == "id" else f"{t}:{gid(t, kombo_id)}"

    assert extract == {key(t, kombo_id): expected(t, kombo_id) for t, kombo_id in LOADED}
    assert {k: v for k, v in root.items() if k != "__typename"} == {
        f'{ROOT_FIELDS[t]}({{"id":"{kombo_id}"}})': {"__ref": key(t, kombo_id)}
        for t, kombo_id in LOADED
    }


def test_control_apollo_cache_keyed_by_kombo_id_collides(gateway_url: str) -> None:
    report = run_apollo(gateway_url, "komboId")

    extract = dict(report["extract"])
    extract.pop("ROOT_QUERY")
    # Three entries for six records, each pair in one: typename the last written, fields mixed.
    assert sorted(extract) == sorted(SHARED.values())
    for variable, (first, second) in PAIRS.items():
        entry = extract[SHARED[variable]]
        assert entry["__typename"] == second
        assert set(FIELDS[first]) | set(FIELDS[second]) <= set(entry)
    # The gateway answered right, yet the first record of each pair reads back as the second.
    assert [r["network"] for r in report["results"]] == [as_queried(t, k) for t, k in LOADED]
    collided = [
        (r["typename"], r["id"])
        for r in report["results"]
        if r["cached"] != as_queried(r["typename"], r["id"])
    ]
    assert collided == [(first, SHARED[variable]) for variable, (first, _) in PAIRS.items()]
