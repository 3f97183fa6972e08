"""Global ids of every type (CONTRACT 1.3), end to end.

``id`` is ``gid://kombo/<Type>/<Kombo id>`` for each of the ten types and resolves back through
``node``, ``nodes`` and ``<singular>(id:)`` (which also take the bare Kombo id; ``node`` and
``nodes`` read a bare id as an interview's). A Kombo id shared by several models names a
different node under each. A global id of another type, or one of no type at all, is refused as
``BAD_USER_INPUT`` naming the argument, before any upstream call. Unknown ids give null, in the
order asked.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox import ALL_INTEGRATIONS, records_for, shared_ids_for
from gateway.schema.ids import global_id
from tests.support.clients import Gateway, Sandbox
from tests.support.record_truth import (
    available_models,
    by_id,
    expected_leaves,
    leaf_selection,
    visible,
)
from tests.support.servers import DEFAULT_INTEGRATION

ACME = DEFAULT_INTEGRATION
MODELS = list(CATALOG)
BY_NAME = {m.name: m for m in MODELS}


def article(type_name: str) -> str:
    return ("an " if type_name[0] in "AEIOU" else "a ") + type_name


def other(model: Model) -> Model:
    """Another model than ``model`` (the next one in the catalog)."""
    return MODELS[(MODELS.index(model) + 1) % len(MODELS)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_global_ids_round_trip_through_node_nodes_and_the_lookup(
    gateway: Gateway, model: Model
) -> None:
    page = gateway.query(f"{{ {model.plural}(first: 5) {{ nodes {{ __typename id komboId }} }} }}")
    nodes = page[model.plural]["nodes"]
    payloads = visible(ACME, model.name)[:5]
    assert nodes == [
        {"__typename": model.name, "id": global_id(model.name, p["id"]), "komboId": p["id"]}
        for p in payloads
    ]
    first = nodes[0]
    selection = f"__typename id ... on {model.name} {{ {leaf_selection(model)} }}"
    data = gateway.query(
        f"""query($gid: ID!, $kombo: ID!, $gids: [ID!]!) {{
              node(id: $gid) {{ {selection} }}
              nodes(ids: $gids) {{ __typename id }}
              byGlobal: {model.singular}(id: $gid) {{ __typename id {leaf_selection(model)} }}
              byKombo: {model.singular}(id: $kombo) {{ __typename id {leaf_selection(model)} }}
            }}""",
        {"gid": first["id"], "kombo": first["komboId"], "gids": [n["id"] for n in nodes]},
    )
    whole = {"__typename": model.name, "id": first["id"], **expected_leaves(model, payloads[0])}
    assert data["node"] == whole
    assert data["byGlobal"] == whole
    assert data["byKombo"] == whole
    assert data["nodes"] == [{"__typename": n["__typename"], "id": n["id"]} for n in nodes]


def test_a_bare_kombo_id_in_node_and_nodes_is_read_as_an_interviews(gateway: Gateway) -> None:
    interview = visible(ACME, "Interview")[0]["id"]
    interview_ids = {r.payload["id"] for r in records_for(ACME, "Interview")}
    job = next(p["id"] for p in visible(ACME, "Job") if p["id"] not in interview_ids)
    data = gateway.query(
        """query($i: ID!, $j: ID!, $ids: [ID!]!) { node(id: $i) { __typename id }
             nodes(ids: $ids) { __typename } notAnInterview: node(id: $j) { id } }""",
        {"i": interview, "j": job, "ids": [interview, job, global_id("Job", job)]},
    )
    assert data["node"] == {"__typename": "Interview", "id": global_id("Interview", interview)}
    assert data["notAnInterview"] is None, "a bare id is an interview's, and no interview has it"
    assert data["nodes"] == [{"__typename": "Interview"}, None, {"__typename": "Job"}]


@pytest.mark.parametrize("integration", ALL_INTEGRATIONS)
def test_a_kombo_id_shared_by_several_models_names_a_different_node_under_each(
    gateway: Gateway, sandbox: Sandbox, integration: str
) -> None:
    shared = shared_ids_for(integration)
    assert shared, f"{integration} has ids shared across models"
    parts, expected, lookups = [], {}, 0
    for n, (kombo_id, models) in enumerate(sorted(shared.items())):
        for name in sorted(models):
            model = BY_NAME[name]
            payload = by_id(integration, name)[kombo_id]
            whole = expected_leaves(model, payload)
            gid = global_id(name, kombo_id)
            parts.append(
                f'n{n}{name}: node(id: "{gid}") {{ __typename id ... on {name} '
                f"{{ {leaf_selection(model)} }} }}"
            )
            parts.append(
                f'l{n}{name}: {model.singular}(id: "{kombo_id}") {{ id {leaf_selection(model)} }}'
            )
            expected[f"n{n}{name}"] = {"__typename": name, "id": gid, **whole}
            expected[f"l{n}{name}"] = {"id": gid, **whole}
            lookups += 1
    data = gateway.query("{ " + " ".join(parts) + " }", headers={"X-Integration-Id": integration})
    assert data == expected
    for kombo_id, models in shared.items():
        gids = {data[k]["id"] for k in data if k.startswith("n") and data[k]["komboId"] == kombo_id}
        assert len(gids) == len(models) >= 2
    # node and the lookup of one model share one batch: one ids= request per model involved.
    paths = sorted(r["path"] for r in sandbox.requests())
    involved = {name for models in shared.values() for name in models}
    assert paths == sorted("/v1" + BY_NAME[n].path for n in involved)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_a_global_id_of_another_type_is_refused_naming_the_argument(
    gateway: Gateway, sandbox: Sandbox, model: Model
) -> None:
    wrong = other(model)
    foreign = global_id(wrong.name, visible(ACME, wrong.name)[0]["id"])
    errors = gateway.errors(
        f'{{ {model.singular}(id: "{foreign}") {{ id }} }}',
    )
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["path"] == [model.singular]
    assert errors[0]["message"].startswith("id: ")
    assert errors[0]["message"] == (
        f"id: {foreign!r} is the id of {article(wrong.name)}, not of {article(model.name)}"
    )
    errors = gateway.errors(
        f'{{ {model.plural}(filter: {{ids: ["{foreign}"]}}) {{ nodes {{ id }} }} }}',
    )
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["message"].startswith("filter.ids: ")
    assert sandbox.requests() == [], "refused before any upstream call"


@pytest.mark.parametrize("plural", ["interviews", "applications", "candidates"])
def test_a_global_id_of_another_type_in_job_ids_is_refused(
    gateway: Gateway, sandbox: Sandbox, plural: str
) -> None:
    foreign = global_id("Application", visible(ACME, "Application")[0]["id"])
    errors = gateway.errors(
        f'{{ {plural}(filter: {{jobIds: ["{foreign}"]}}) {{ nodes {{ id }} }} }}',
    )
    assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"]
    assert errors[0]["message"].startswith("filter.jobIds: ")
    assert sandbox.requests() == []


def test_the_right_global_id_in_a_filter_is_sent_as_the_kombo_id(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    job = visible(ACME, "Job")[0]["id"]
    application = visible(ACME, "Application")[0]["id"]
    gateway.query(
        "query($j: [ID!], $a: [ID!]) { applications(filter: {ids: $a, jobIds: $j}) "
        "{ nodes { id } } }",
        {"j": [global_id("Job", job)], "a": [global_id("Application", application)]},
    )
    ((request,),) = [sandbox.requests()]
    assert request["params"]["job_ids"] == job
    assert request["params"]["ids"] == application


MALFORMED = [
    "gid://kombo/Nope/x",
    "gid://kombo/Job/",
    "gid://kombo/Job",
    "gid://kombo/job/abc",
    "gid://kombo//abc",
    "gid://kombo/Job/a%2Cb",
]


@pytest.mark.parametrize("malformed", MALFORMED)
def test_a_malformed_global_id_is_refused_everywhere(
    gateway: Gateway, sandbox: Sandbox, malformed: str
) -> None:
    variables = {"id": malformed, "ids": [malformed]}
    for query, argument in [
        ("query($id: ID!) { node(id: $id) { id } }", "id: "),
        ("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "ids: "),
        ("query($id: ID!) { job(id: $id) { id } }", "id: "),
        ("query($ids: [ID!]) { jobs(filter: {ids: $ids}) { nodes { id } } }", "filter.ids: "),
    ]:
        errors = gateway.errors(query, variables)
        assert [e["extensions"]["code"] for e in errors] == ["BAD_USER_INPUT"], query
        assert errors[0]["message"].startswith(argument), errors
    assert sandbox.requests() == []


def test_unknown_ids_of_every_type_give_null_in_the_order_asked(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    asked: list[str] = []
    expected: list[dict[str, Any] | None] = []
    for n, model in enumerate(available_models(ACME)):
        known = visible(ACME, model.name)[-1]["id"]
        unknown = f"unknown{model.name}{n:04d}"
        pair = [(global_id(model.name, unknown), None), (global_id(model.name, known), known)]
        for gid, kombo_id in pair if n % 2 else reversed(pair):
            asked.append(gid)
            expected.append(kombo_id and {"__typename": model.name, "id": gid})
    asked.append(asked[1])
    expected.append(expected[1])
    data = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }", {"ids": asked}
    )
    assert data["nodes"] == expected
    assert len(sandbox.requests()) == len(available_models(ACME))
