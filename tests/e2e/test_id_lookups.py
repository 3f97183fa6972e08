"""Id lookups (`interview`, `node`, `nodes`): batched into one upstream `ids=` request per 250.

Lookups are given global ids and Kombo's bare ids (read as interviews' by `node`/`nodes`), often
mixed in one request; answers carry the global `id` and Kombo's `komboId`. The other id forms are
in tests/e2e/test_global_ids.py."""

from __future__ import annotations

from gateway.sandbox.data import INTEGRATIONS, interviews_for
from tests.support.clients import Gateway, Sandbox
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.truth import gid, visible

ALL = interviews_for(DEFAULT_INTEGRATION)
DELETED = [i for i in ALL if i.payload["remote_deleted_at"] is not None]


def test_sixty_aliased_lookups_and_nodes_cost_one_upstream_request(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    wanted = [i.payload["id"] for i in ALL[:60]]
    extra = [i.payload["id"] for i in ALL[100:110]]
    # Every other lookup by global id; `nodes` gets global ids, then bare ones (interviews').
    given = [gid(i) if n % 2 else i for n, i in enumerate(wanted)]
    aliases = "\n".join(
        f'i{n}: interview(id: "{i}") {{ id komboId title }}' for n, i in enumerate(given)
    )
    query = f"""
    query {{
      {aliases}
      nodes(ids: {[gid(i) for i in extra] + wanted[:5]!r}) {{ __typename id }}
    }}
    """.replace("'", '"')
    data = gateway.query(query)
    assert [data[f"i{n}"]["komboId"] for n in range(60)] == wanted
    assert [data[f"i{n}"]["id"] for n in range(60)] == [gid(i) for i in wanted]
    assert [n["id"] for n in data["nodes"]] == [gid(i) for i in extra + wanted[:5]]
    assert {n["__typename"] for n in data["nodes"]} == {"Interview"}
    (request,) = sandbox.requests()
    asked = request["params"]["ids"].split(",")
    assert sorted(asked) == sorted(set(wanted + extra))
    assert request["params"]["page_size"] == str(len(asked))
    assert request["params"]["include_deleted"] == "true"


def test_more_than_250_ids_go_upstream_in_chunks_of_250(gateway: Gateway, sandbox: Sandbox) -> None:
    wanted = [i.payload["id"] for i in ALL] + [i.payload["id"] for i in visible(INTEGRATIONS[0])]
    unique = [gid(i) for i in dict.fromkeys(wanted)]
    assert len(unique) == 260
    data = gateway.query("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": unique})
    assert [n["id"] for n in data["nodes"]] == unique
    sizes = sorted(len(r["params"]["ids"].split(",")) for r in sandbox.requests())
    assert sizes == [10, 250]
    assert sorted(int(r["params"]["page_size"]) for r in sandbox.requests()) == [10, 250]


def test_results_come_in_the_order_asked_and_unknown_ids_give_null(gateway: Gateway) -> None:
    a, b = ALL[200].payload["id"], ALL[2].payload["id"]
    data = gateway.query(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Interview { title } } }",
        {"ids": [gid(a), gid("unknownInterviewId000000"), b, a, "unknownInterviewId000001"]},
    )
    assert data["nodes"][0]["id"] == gid(a)
    assert data["nodes"][1] is None
    assert data["nodes"][2]["id"] == gid(b)
    assert data["nodes"][3]["id"] == gid(a)
    assert data["nodes"][4] is None
    assert data["nodes"][0]["title"] == ALL[200].payload["title"]


def test_a_deleted_interview_is_found_by_id_with_remote_deleted_at(gateway: Gateway) -> None:
    deleted = DELETED[0].payload
    data = gateway.query(
        """query($id: ID!, $gid: ID!) {
             interview(id: $id) { id komboId remoteDeletedAt } node(id: $gid) { id } }""",
        {"id": deleted["id"], "gid": gid(deleted["id"])},
    )
    assert data["interview"]["id"] == gid(deleted["id"])
    assert data["interview"]["komboId"] == deleted["id"]
    assert data["interview"]["remoteDeletedAt"] is not None
    assert data["node"] == {"id": gid(deleted["id"])}


def test_another_integrations_interview_is_not_found(gateway: Gateway) -> None:
    foreign = interviews_for(INTEGRATIONS[1])[0].payload["id"]
    data = gateway.query(
        "query($id: ID!, $gid: ID!) { a: interview(id: $id) { id } b: node(id: $gid) { id } }",
        {"id": foreign, "gid": gid(foreign)},
    )
    assert data == {"a": None, "b": None}


def test_nested_fields_cost_no_further_upstream_request(gateway: Gateway, sandbox: Sandbox) -> None:
    # The v1 selection: every field of it is inline in the interview's payload.
    data = gateway.query(
        """{ interviews(first: 50) { nodes {
             id komboId location { city street1 zipCode } users { id komboId firstName email }
             application { id komboId outcome rejectionReasonName
               candidate { id komboId firstName emailAddresses { emailAddress type } }
               job { id komboId remoteId name } } } } }"""
    )
    nodes = data["interviews"]["nodes"]
    assert len(nodes) == 50
    assert len(sandbox.requests()) == 1
    # Inline records carry the global ids of their own types.
    truth = {i.payload["id"]: i.payload for i in ALL}
    for node in nodes:
        payload = truth[node["komboId"]]
        assert node["id"] == gid(payload["id"])
        assert [u["id"] for u in node["users"]] == [gid(u["id"], "User") for u in payload["users"]]
        assert [u["komboId"] for u in node["users"]] == [u["id"] for u in payload["users"]]
        application = payload["application"]
        if application is None:
            assert node["application"] is None
            continue
        assert node["application"]["id"] == gid(application["id"], "Application")
        for field, type_name in (("candidate", "Candidate"), ("job", "Job")):
            inline = application[field]
            got = node["application"][field]
            if inline is None:
                assert got is None, field
            else:
                assert got["id"] == gid(inline["id"], type_name)
                assert got["komboId"] == inline["id"]


def test_a_jobs_interviews_cost_one_upstream_request(gateway: Gateway, sandbox: Sandbox) -> None:
    interview = next(i.payload for i in visible(DEFAULT_INTEGRATION) if i.payload["application"])
    job = interview["application"]["job"]
    expected = [
        i.payload["id"]
        for i in visible(DEFAULT_INTEGRATION)
        if ((i.payload["application"] or {}).get("job") or {}).get("id") == job["id"]
    ]
    data = gateway.query(
        """query($f: InterviewFilter) { interviews(first: 1, filter: $f) { nodes {
             application { job { interviews(first: 100) { nodes { id } } } } } } }""",
        {"f": {"ids": [gid(interview["id"])]}},
    )
    nodes = data["interviews"]["nodes"][0]["application"]["job"]["interviews"]["nodes"]
    assert [n["id"] for n in nodes] == [gid(i) for i in expected]
    requests = sandbox.requests()
    assert len(requests) == 2, "one for the outer list, one for the job's interviews"
    assert requests[1]["params"]["job_ids"] == job["id"]


def test_ids_shared_across_types_resolve_to_the_interview(gateway: Gateway) -> None:
    interview_ids = {i.payload["id"] for i in ALL}
    user_ids = {u["id"] for i in ALL for u in i.payload["users"]}
    shared = sorted(interview_ids & user_ids)
    assert shared, "the sandbox has an interview whose id is also a user's id"
    data = gateway.query(
        "query($id: ID!) { node(id: $id) { __typename id ... on Interview { komboId } } }",
        {"id": shared[0]},
    )
    assert data["node"] == {"__typename": "Interview", "id": gid(shared[0]), "komboId": shared[0]}
    # ... and their global ids tell them apart: `id` is unique across types.
    assert gid(shared[0]) != gid(shared[0], "User")
