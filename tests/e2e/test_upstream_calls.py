"""Upstream calls, counted in the sandbox's request log, for every endpoint (CONTRACT 1.4).

A page costs one request; a whole walk one per page; id lookups of one request (``node``,
``nodes``, ``<singular>(id:)``, references) one ``ids=`` request per model per 250 ids, with
``page_size`` equal to the chunk's size and ``include_deleted=true``; a selection that stays within
what the payload inlines costs nothing more; asking more of inline records completes them through
the same per-model batches. Every answer is also compared with the sandbox's own records.

Completing more than 250 distinct records of one model needs more records than the sandbox's
integrations hold: those tests run against the bench upstream's large integration (the sandbox
app plus ``bench:large-1000``, :mod:`bench.upstream`), in a sandbox and a gateway of their own.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG, ListShape, Model, ObjectShape, Scalar, camel
from gateway.sandbox import records_for
from gateway.schema.ids import global_id
from tests.support.clients import Gateway, Sandbox
from tests.support.record_truth import (
    by_id,
    expected_leaves,
    graphql_value,
    leaf_fields,
    leaf_selection,
    upstream_calls,
    visible,
)
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, free_port, serve_gateway, wait_until_ready

ACME = DEFAULT_INTEGRATION
MODELS = list(CATALOG)
BY_NAME = {m.name: m for m in MODELS}


def path_of(model: str) -> str:
    return BY_NAME[model].path


def assert_id_batch(params: dict[str, str], ids: list[str] | set[str]) -> None:
    """One ``ids=`` request asking exactly ``ids``, as CONTRACT 1.4 says it is sent."""
    asked = params["ids"].split(",")
    assert sorted(asked) == sorted(set(ids))
    assert len(asked) == len(set(asked)), "an id is asked once"
    assert params["page_size"] == str(len(asked))
    assert params["include_deleted"] == "true"


# -- pages and walks --------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_a_page_of_every_endpoint_costs_one_request_and_answers_its_records(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    selection = leaf_selection(model)
    data = gateway.query(f"{{ {model.plural}(first: 100) {{ nodes {{ {selection} }} }} }}")
    expected = [expected_leaves(model, p) for p in visible(ACME, model.name)[:100]]
    assert data[model.plural]["nodes"] == expected
    ((path, params),) = upstream_calls(sandbox.requests())
    assert path == model.path
    assert params["page_size"] == "100"
    assert "ids" not in params and "cursor" not in params


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_a_whole_walk_at_first_100_costs_one_request_per_page(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    query = (
        f"query($after: String) {{ {model.plural}(first: 100, after: $after) "
        "{ nodes { komboId } pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[str] = []
    after, pages = None, 0
    while True:
        connection = gateway.query(query, {"after": after})[model.plural]
        pages += 1
        seen += [n["komboId"] for n in connection["nodes"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    expected = [p["id"] for p in visible(ACME, model.name)]
    assert seen == expected
    calls = upstream_calls(sandbox.requests())
    assert len(calls) == pages == max(1, math.ceil(len(expected) / 100))
    assert {path for path, _ in calls} == {model.path}
    assert ["cursor" in params for _, params in calls] == [False] + [True] * (pages - 1)


# -- id lookups -------------------------------------------------------------------------------


def two_of_each() -> dict[str, list[dict[str, Any]]]:
    """Two records of every model of the default integration, one of them deleted where the
    model has a deleted record (lookups send include_deleted=true)."""
    chosen = {}
    for model in MODELS:
        payloads = [r.payload for r in records_for(ACME, model.name)]
        deleted = [p for p in payloads if p["remote_deleted_at"] is not None]
        chosen[model.name] = [payloads[0], (deleted or payloads[1:])[0]]
    return chosen


def test_node_nodes_and_lookups_across_all_ten_models_cost_one_request_per_model(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    chosen = two_of_each()
    lookups = []
    for model in MODELS:
        first, second = chosen[model.name]
        lookups.append(
            f'{model.singular}: {model.singular}(id: "{first["id"]}") {{ {leaf_selection(model)} }}'
        )
        lookups.append(
            f'{model.singular}Node: node(id: "{global_id(model.name, second["id"])}") '
            f"{{ __typename id ... on {model.name} {{ komboId }} }}"
        )
    gids = [global_id(m.name, p["id"]) for m in MODELS for p in chosen[m.name]]
    query = "query($ids: [ID!]!) { " + " ".join(lookups) + " nodes(ids: $ids) { __typename id } }"
    data = gateway.query(query, {"ids": gids})
    for model in MODELS:
        first, second = chosen[model.name]
        assert data[model.singular] == expected_leaves(model, first)
        assert data[f"{model.singular}Node"] == {
            "__typename": model.name,
            "id": global_id(model.name, second["id"]),
            "komboId": second["id"],
        }
    assert [n["id"] for n in data["nodes"]] == gids
    assert [n["__typename"] for n in data["nodes"]] == [m.name for m in MODELS for _ in (1, 2)]
    calls = upstream_calls(sandbox.requests())
    assert sorted(path for path, _ in calls) == sorted(m.path for m in MODELS)
    for path, params in calls:
        model = CATALOG.by_path(path)
        assert_id_batch(params, [p["id"] for p in chosen[model.name]])


def test_300_ids_of_one_model_go_upstream_as_250_and_50(gateway: Gateway, sandbox: Sandbox) -> None:
    known = [r.payload["id"] for r in records_for(ACME, "Interview")]
    unknown = [f"unknownInterview{n:08d}" for n in range(300 - len(known))]
    asked = known[:130] + unknown + known[130:]
    assert len(set(asked)) == 300
    data = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Interview { komboId } } }",
        {"ids": [global_id("Interview", i) for i in asked]},
    )
    known_set = set(known)
    assert [n and n["komboId"] for n in data["nodes"]] == [
        i if i in known_set else None for i in asked
    ]
    calls = upstream_calls(sandbox.requests())
    assert sorted(len(p["ids"].split(",")) for _, p in calls) == [50, 250]
    assert {path for path, _ in calls} == {"/ats/interviews"}
    for _, params in calls:
        assert params["page_size"] == str(len(params["ids"].split(",")))
        assert params["include_deleted"] == "true"
    sent = [i for _, p in calls for i in p["ids"].split(",")]
    assert sorted(sent) == sorted(asked)


# -- inline records and their completion ------------------------------------------------------


def inline_fields(model: Model) -> list[tuple[Any, ObjectShape]]:
    """The model's top-level fields holding (partial) records of another model."""
    found = []
    for f in model.shape.fields:
        shape = f.shape.item if isinstance(f.shape, ListShape) else f.shape
        if isinstance(shape, ObjectShape) and shape.model is not None:
            found.append((f, shape))
    return found


def model_name(inline: ObjectShape) -> str:
    """The model an inline record belongs to."""
    assert inline.model is not None
    return inline.model


def completing_field(inline: ObjectShape) -> Any:
    """A leaf field of the inlined model that its inline records lack (a String where possible):
    asking it completes them."""
    candidates = [
        f for f in leaf_fields(CATALOG[model_name(inline)]) if f.name not in inline.field_names
    ]
    strings = [f for f in candidates if isinstance(f.shape, Scalar) and f.shape.kind == "String"]
    return (strings or candidates)[0]


def inline_records(parent: dict[str, Any], field: Any, inline: ObjectShape) -> list[dict[str, Any]]:
    value = parent.get(field.name)
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if item is None:
            continue
        kombo_id = item.get("id") if inline.id_from is None else parent.get(inline.id_from)
        if kombo_id is not None:
            out.append({**item, "id": kombo_id})
    return out


MODELS_WITH_INLINE = [m for m in MODELS if inline_fields(m)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_a_selection_within_the_inline_fields_costs_one_request(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    parts = ["komboId"]
    for f, inline in inline_fields(model):
        leaves = [
            camel(n.name)
            for n in inline.fields
            if n.name != "id" and isinstance(n.shape, Scalar) and n.shape.kind != "JSON"
        ]
        parts.append(f"{camel(f.name)} {{ {' '.join(['komboId', *leaves])} }}")
    data = gateway.query(f"{{ {model.plural}(first: 100) {{ nodes {{ {' '.join(parts)} }} }} }}")
    parents = visible(ACME, model.name)[:100]
    nodes = data[model.plural]["nodes"]
    assert [n["komboId"] for n in nodes] == [p["id"] for p in parents]
    for node, parent in zip(nodes, parents, strict=True):
        for f, inline in inline_fields(model):
            answered = node[camel(f.name)]
            answered = answered if isinstance(answered, list) else [answered]
            want = inline_records(parent, f, inline)
            assert [a["komboId"] for a in answered if a is not None] == [w["id"] for w in want]
    assert len(sandbox.requests()) == 1


@pytest.mark.parametrize("model", MODELS_WITH_INLINE, ids=lambda m: m.name)
def test_completing_the_inline_records_of_100_parents_costs_one_request_per_model(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    parts, wanted = ["komboId"], {}
    for f, inline in inline_fields(model):
        extra = completing_field(inline)
        parts.append(f"{camel(f.name)} {{ komboId {camel(extra.name)} }}")
        wanted[f.name] = extra
    data = gateway.query(f"{{ {model.plural}(first: 100) {{ nodes {{ {' '.join(parts)} }} }} }}")
    parents = visible(ACME, model.name)[:100]
    nodes = data[model.plural]["nodes"]
    ids_needed: dict[str, set[str]] = {}
    for node, parent in zip(nodes, parents, strict=True):
        assert node["komboId"] == parent["id"]
        for f, inline in inline_fields(model):
            records = by_id(ACME, model_name(inline))
            want = inline_records(parent, f, inline)
            ids_needed.setdefault(model_name(inline), set()).update(w["id"] for w in want)
            answered = node[camel(f.name)]
            answered = answered if isinstance(answered, list) else [answered]
            extra = wanted[f.name]
            assert [a for a in answered if a is not None] == [
                {
                    "komboId": w["id"],
                    camel(extra.name): graphql_value(extra.shape, records[w["id"]][extra.name]),
                }
                for w in want
            ]
    calls = upstream_calls(sandbox.requests())
    assert calls[0][0] == model.path and "ids" not in calls[0][1]
    needed = {name: ids for name, ids in ids_needed.items() if ids}
    assert len(calls) == 1 + len(needed)
    assert sorted(path for path, _ in calls[1:]) == sorted(path_of(n) for n in needed)
    for path, params in calls[1:]:
        assert_id_batch(params, needed[CATALOG.by_path(path).name])


@pytest.mark.parametrize("model", MODELS_WITH_INLINE, ids=lambda m: m.name)
def test_a_whole_walk_completing_inline_records_costs_per_page_one_request_per_model(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    """Each page's completions are batched for that page: 1 + one request per model needed."""
    parts = ["komboId"]
    for f, inline in inline_fields(model):
        parts.append(f"{camel(f.name)} {{ komboId {camel(completing_field(inline).name)} }}")
    query = (
        f"query($after: String) {{ {model.plural}(first: 100, after: $after) "
        f"{{ nodes {{ {' '.join(parts)} }} pageInfo {{ hasNextPage endCursor }} }} }}"
    )
    parents = visible(ACME, model.name)
    after, start = None, 0
    while True:
        sandbox.clear()
        connection = gateway.query(query, {"after": after})[model.plural]
        page = parents[start : start + 100]
        assert [n["komboId"] for n in connection["nodes"]] == [p["id"] for p in page]
        needed: dict[str, set[str]] = {}
        for parent in page:
            for f, inline in inline_fields(model):
                ids = {r["id"] for r in inline_records(parent, f, inline)}
                if ids:
                    needed.setdefault(model_name(inline), set()).update(ids)
        calls = upstream_calls(sandbox.requests())
        assert len(calls) == 1 + len(needed)
        for path, params in calls[1:]:
            assert_id_batch(params, needed[CATALOG.by_path(path).name])
        start += 100
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert start >= len(parents)


ISSUE_EXAMPLE = """{ interviews(first: 100) { nodes { komboId application {
  currentStage { name } candidate { phoneNumbers { phoneNumber } tags { name } }
  job { status } } } } }"""


def test_the_issues_example_costs_at_most_four_requests(gateway: Gateway, sandbox: Sandbox) -> None:
    nodes = gateway.query(ISSUE_EXAMPLE)["interviews"]["nodes"]
    parents = visible(ACME, "Interview")[:100]
    applications = by_id(ACME, "Application")
    candidates = by_id(ACME, "Candidate")
    jobs = by_id(ACME, "Job")
    for node, parent in zip(nodes, parents, strict=True):
        assert node["komboId"] == parent["id"]
        if parent["application"] is None:
            assert node["application"] is None
            continue
        inline = parent["application"]
        app = applications[inline["id"]]
        candidate = inline["candidate"] and candidates[inline["candidate"]["id"]]
        job = inline["job"] and jobs[inline["job"]["id"]]
        assert node["application"] == {
            "currentStage": app["current_stage"] and {"name": app["current_stage"]["name"]},
            "candidate": candidate
            and {
                "phoneNumbers": None
                if candidate.get("phone_numbers") is None
                else [{"phoneNumber": p["phone_number"]} for p in candidate["phone_numbers"]],
                "tags": [{"name": t["name"]} for t in candidate["tags"]],
            },
            "job": job and {"status": job.get("status")},
        }
    calls = upstream_calls(sandbox.requests())
    assert len(calls) <= 4
    paths = [path for path, _ in calls]
    assert Counter(paths) == Counter(
        {"/ats/interviews": 1, "/ats/applications": 1, "/ats/candidates": 1, "/ats/jobs": 1}
    )


def test_references_are_batched_per_model(gateway: Gateway, sandbox: Sandbox) -> None:
    data = gateway.query(
        """{ interviews(first: 100) { nodes { komboId stageId stage { komboId name } } }
             jobs(first: 100) { nodes { komboId contactId contact { komboId email } } } }"""
    )
    stages, users = by_id(ACME, "ApplicationStage"), by_id(ACME, "User")
    interviews = visible(ACME, "Interview")[:100]
    jobs = visible(ACME, "Job")[:100]
    for node, parent in zip(data["interviews"]["nodes"], interviews, strict=True):
        stage = stages.get(parent["stage_id"]) if parent["stage_id"] else None
        assert node["stage"] == (stage and {"komboId": stage["id"], "name": stage["name"]})
    for node, parent in zip(data["jobs"]["nodes"], jobs, strict=True):
        user = users.get(parent["contact_id"]) if parent["contact_id"] else None
        assert node["contact"] == (user and {"komboId": user["id"], "email": user["email"]})
    stage_ids = {p["stage_id"] for p in interviews if p["stage_id"]}
    contact_ids = {p["contact_id"] for p in jobs if p["contact_id"]}
    assert stage_ids and contact_ids, "the sandbox has both references"
    calls = upstream_calls(sandbox.requests())
    assert Counter(path for path, _ in calls) == Counter(
        {"/ats/interviews": 1, "/ats/jobs": 1, "/ats/application-stages": 1, "/ats/users": 1}
    )
    for path, params in calls:
        if path == "/ats/application-stages":
            assert_id_batch(params, stage_ids)
        elif path == "/ats/users":
            assert_id_batch(params, contact_ids)


def test_nested_connections_under_a_page_of_jobs_cost_one_request_per_job(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    data = gateway.query(
        """{ jobs(first: 10) { nodes { komboId
             applications(first: 3) { nodes { komboId candidate { firstName } } } } } }"""
    )
    jobs = visible(ACME, "Job")[:10]
    applications = visible(ACME, "Application")
    for node, job in zip(data["jobs"]["nodes"], jobs, strict=True):
        mine = [a for a in applications if a["job_id"] == job["id"]][:3]
        assert node["applications"]["nodes"] == [
            {
                "komboId": a["id"],
                "candidate": a["candidate"] and {"firstName": a["candidate"]["first_name"]},
            }
            for a in mine
        ]
    calls = upstream_calls(sandbox.requests())
    assert len(calls) == 1 + 10
    assert calls[0][0] == "/ats/jobs"
    nested = calls[1:]
    assert {path for path, _ in nested} == {"/ats/applications"}
    assert sorted(p["job_ids"] for _, p in nested) == sorted(j["id"] for j in jobs)
    assert {p["page_size"] for _, p in nested} == {"3"}


# -- more than 250 records to complete: the bench upstream's large integration -----------------

LARGE = "bench:large-1000"


@pytest.fixture(scope="module")
def large(server_logs: Path) -> Iterator[tuple[Gateway, Sandbox]]:
    """The bench upstream (the sandbox app plus :data:`LARGE`) and a gateway reading it."""
    from bench.servers import spawn, stop

    port = free_port()
    log = server_logs / "bench-upstream-calls.log"
    process = spawn(["bench.upstream", "--port", str(port), "--api-key", API_KEY], {}, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url + "/healthz", log, timeout=60)
        with serve_gateway(
            url, server_logs / "gateway-upstream-calls.log", KOMBO_INTEGRATION_ID=LARGE
        ) as gateway_url:
            controls = Sandbox(url)
            yield Gateway(gateway_url, secrets=(API_KEY,)), controls
    finally:
        stop(process)


def test_completing_300_parents_applications_goes_as_250_and_50(
    large: tuple[Gateway, Sandbox],
) -> None:
    gateway, sandbox = large
    from bench.upstream import register_large_integration

    register_large_integration()
    interviews = records_for(LARGE, "Interview")
    applications = by_id(LARGE, "Application")
    parents, seen = [], set()
    for record in interviews:
        app = record.payload["application"]
        if app is not None and app["id"] not in seen:
            seen.add(app["id"])
            parents.append(record.payload)
    parents = parents[:300]
    assert len(parents) == 300, "the large integration has 300 interviews of distinct applications"
    sandbox.clear()
    data = gateway.query(
        """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Interview { komboId
             application { komboId currentStage { name } } } } }""",
        {"ids": [global_id("Interview", p["id"]) for p in parents]},
    )
    for node, parent in zip(data["nodes"], parents, strict=True):
        app = applications[parent["application"]["id"]]
        assert node == {
            "komboId": parent["id"],
            "application": {
                "komboId": app["id"],
                "currentStage": app["current_stage"] and {"name": app["current_stage"]["name"]},
            },
        }
    calls = upstream_calls(sandbox.requests())
    sizes = Counter((path, len(p["ids"].split(","))) for path, p in calls)
    assert sizes == Counter(
        {
            ("/ats/interviews", 250): 1,
            ("/ats/interviews", 50): 1,
            ("/ats/applications", 250): 1,
            ("/ats/applications", 50): 1,
        }
    )
    for _, params in calls:
        assert params["page_size"] == str(len(params["ids"].split(",")))
        assert params["include_deleted"] == "true"
    sent = {i for path, p in calls if path == "/ats/applications" for i in p["ids"].split(",")}
    assert sent == {p["application"]["id"] for p in parents}
