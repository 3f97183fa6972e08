"""Global ids over the real processes (CONTRACT 1.3): `id` is `gid://kombo/<Type>/<Kombo id>`.

An interview's global id, as a list answers it, finds that interview again through `node`,
`nodes` and `interview(id:)`; Kombo's bare id still works there (read as an interview's by
`node`/`nodes`, as in v1). `node`/`nodes` resolve a user's or job's global id too, one upstream
lookup per model. An id of another type where an interview's is wanted, or one that names no
type, is `BAD_USER_INPUT` naming the argument, answered without asking upstream.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.clients import Gateway, Sandbox
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.truth import gid, visible

VISIBLE = visible(DEFAULT_INTEGRATION)
LIST = "query($first: Int!) { interviews(first: $first) { nodes { id komboId title } } }"
LOOKUPS = """
query($id: ID!, $ids: [ID!]!) {
  interview(id: $id) { id komboId title }
  node(id: $id) { __typename id ... on Interview { komboId title } }
  nodes(ids: $ids) { __typename id ... on Interview { komboId title } }
}
"""
# Ids that are another type's: a user's (a user may share its Kombo id with an interview) and a
# job's, whose Kombo ids the sandbox's interviews inline.
USER_ID = gid(VISIBLE[0].payload["users"][0]["id"], "User")
JOB_ID = gid(
    next(i.payload for i in VISIBLE if i.payload["application"])["application"]["job"]["id"],
    "Job",
)
MALFORMED = [
    "gid://kombo/Nope/x",  # no such type
    "gid://kombo/interview/x",  # type names are spelled as in the schema
    "gid://kombo/Interview",  # no id
    "gid://kombo/Interview/",  # an empty id
    "gid://kombo/Interview/a%2Cb",  # a comma, which Kombo's ids= cannot carry
]


def only_error(gateway: Gateway, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    errors = gateway.errors(query, variables)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_listed_interviews_global_id_finds_it_again_by_every_lookup(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    listed = gateway.query(LIST, {"first": 5})["interviews"]["nodes"]
    assert [n["id"] for n in listed] == [gid(i.payload["id"]) for i in VISIBLE[:5]]
    assert [n["komboId"] for n in listed] == [i.payload["id"] for i in VISIBLE[:5]]
    sandbox.clear()

    ids = [n["id"] for n in listed]
    data = gateway.query(LOOKUPS, {"id": ids[2], "ids": ids})
    assert data["interview"] == listed[2]
    assert data["node"] == {"__typename": "Interview", **listed[2]}
    assert data["nodes"] == [{"__typename": "Interview", **n} for n in listed]
    # Every lookup of the request in one upstream call, by Kombo's ids.
    (request,) = sandbox.requests()
    assert request["path"] == "/v1/ats/interviews"
    assert sorted(request["params"]["ids"].split(",")) == sorted(n["komboId"] for n in listed)


def test_kombo_ids_are_still_taken_and_answered_with_global_ids(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    records = [i.payload for i in VISIBLE[10:14]]
    kombo_ids = [r["id"] for r in records]
    # Bare and global mixed in one `nodes`; `node` and `interview(id:)` bare.
    mixed = [kombo_ids[0], gid(kombo_ids[1]), kombo_ids[2], gid(kombo_ids[3])]
    data = gateway.query(LOOKUPS, {"id": kombo_ids[0], "ids": mixed})
    expected = [
        {"__typename": "Interview", "id": gid(r["id"]), "komboId": r["id"], "title": r["title"]}
        for r in records
    ]
    assert data["node"] == expected[0]
    assert data["interview"] == {k: v for k, v in expected[0].items() if k != "__typename"}
    assert data["nodes"] == expected
    (request,) = sandbox.requests()
    assert sorted(request["params"]["ids"].split(",")) == sorted(kombo_ids)


def test_a_global_id_and_its_kombo_id_are_one_lookup(gateway: Gateway, sandbox: Sandbox) -> None:
    kombo_id = VISIBLE[20].payload["id"]
    data = gateway.query(LOOKUPS, {"id": gid(kombo_id), "ids": [kombo_id, gid(kombo_id)]})
    assert data["interview"]["id"] == data["node"]["id"] == gid(kombo_id)
    assert [n["id"] for n in data["nodes"]] == [gid(kombo_id)] * 2
    (request,) = sandbox.requests()
    assert request["params"]["ids"] == kombo_id


@pytest.mark.parametrize(("other", "its_type"), [(USER_ID, "User"), (JOB_ID, "Job")])
def test_another_types_global_id_is_refused_by_interview_lookup(
    gateway: Gateway, sandbox: Sandbox, other: str, its_type: str
) -> None:
    error = only_error(gateway, "query($id: ID!) { interview(id: $id) { id } }", {"id": other})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["interview"]
    message = error["message"]
    assert message.startswith(f"id: {other!r} "), message
    # Says what the id is, and what was wanted.
    assert f" {its_type}," in message and message.endswith(" Interview"), message
    assert sandbox.requests() == []


@pytest.mark.parametrize(
    ("field", "other", "wanted"),
    [
        ("ids", USER_ID, "Interview"),
        ("ids", JOB_ID, "Interview"),
        ("jobIds", gid(VISIBLE[0].payload["id"]), "Job"),
    ],
    ids=["ids-user", "ids-job", "jobIds-interview"],
)
def test_another_types_global_id_is_refused_by_the_filter(
    gateway: Gateway, sandbox: Sandbox, field: str, other: str, wanted: str
) -> None:
    # Beside a valid id of the right type: the whole filter is refused, not just that value.
    right = gid(VISIBLE[0].payload["id"]) if field == "ids" else JOB_ID
    error = only_error(
        gateway,
        "query($f: InterviewFilter) { interviews(first: 5, filter: $f) { nodes { id } } }",
        {"f": {field: [right, other]}},
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["path"] == ["interviews"]
    message = error["message"]
    assert message.startswith(f"filter.{field}: {other!r} "), message
    assert message.endswith(f" {wanted}"), message
    assert sandbox.requests() == []


@pytest.mark.parametrize("malformed", MALFORMED)
def test_a_malformed_global_id_is_refused_everywhere_without_asking_upstream(
    gateway: Gateway, sandbox: Sandbox, malformed: str
) -> None:
    for query, argument in [
        ("query($id: ID!) { node(id: $id) { id } }", "id"),
        ("query($id: ID!) { interview(id: $id) { id } }", "id"),
        ("query($id: ID!) { nodes(ids: [$id]) { id } }", "ids"),
        (
            "query($id: ID!) { interviews(first: 1, filter: {ids: [$id]}) { nodes { id } } }",
            "filter.ids",
        ),
    ]:
        error = only_error(gateway, query, {"id": malformed})
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (query, error)
        assert error["message"].startswith(f"{argument}: {malformed!r} "), (query, error)
    assert sandbox.requests() == []


def test_a_refused_id_fails_only_its_own_field(gateway: Gateway, sandbox: Sandbox) -> None:
    kombo_id = VISIBLE[0].payload["id"]
    body = gateway.post(
        """query($bad: ID!, $good: ID!) {
             bad: node(id: $bad) { id }
             good: node(id: $good) { id }
           }""",
        {"bad": "gid://kombo/Nope/x", "good": gid(kombo_id)},
    ).json()
    assert body["data"] == {"bad": None, "good": {"id": gid(kombo_id)}}
    (error,) = body["errors"]
    assert error["path"] == ["bad"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert len(sandbox.requests()) == 1


def test_node_and_nodes_resolve_every_types_global_id_one_call_per_model(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    interview = next(i.payload for i in VISIBLE if i.payload["application"] and i.payload["users"])
    user, job = interview["users"][0], interview["application"]["job"]
    ids = [gid(interview["id"]), gid(user["id"], "User"), gid(job["id"], "Job")]
    data = gateway.query(
        """query($id: ID!, $ids: [ID!]!) {
             node(id: $id) { __typename id ... on User { komboId email } }
             nodes(ids: $ids) { __typename id
               ... on Interview { komboId } ... on User { komboId } ... on Job { komboId name } }
           }""",
        {"id": ids[1], "ids": ids},
    )
    assert data["node"] == {
        "__typename": "User",
        "id": ids[1],
        "komboId": user["id"],
        "email": user["email"],
    }
    assert data["nodes"] == [
        {"__typename": "Interview", "id": ids[0], "komboId": interview["id"]},
        {"__typename": "User", "id": ids[1], "komboId": user["id"]},
        {"__typename": "Job", "id": ids[2], "komboId": job["id"], "name": job["name"]},
    ]
    # One upstream lookup per model, by Kombo's ids: the user's two lookups are one.
    asked = sorted((r["path"], r["params"]["ids"]) for r in sandbox.requests())
    assert asked == sorted(
        [
            ("/v1/ats/interviews", interview["id"]),
            ("/v1/ats/users", user["id"]),
            ("/v1/ats/jobs", job["id"]),
        ]
    )


def test_a_kombo_id_two_types_share_is_told_apart_by_the_global_id(gateway: Gateway) -> None:
    interview_ids = {i.payload["id"] for i in VISIBLE}
    shared = sorted(interview_ids & {u["id"] for i in VISIBLE for u in i.payload["users"]})
    assert shared, "the sandbox has an interview whose id is also a user's id"
    kombo_id = shared[0]
    data = gateway.query(
        """query($bare: ID!, $interview: ID!, $user: ID!) {
             bare: node(id: $bare) { __typename id }
             interview: node(id: $interview) { __typename id }
             user: node(id: $user) { __typename id }
           }""",
        {"bare": kombo_id, "interview": gid(kombo_id), "user": gid(kombo_id, "User")},
    )
    assert data == {
        "bare": {"__typename": "Interview", "id": gid(kombo_id)},
        "interview": {"__typename": "Interview", "id": gid(kombo_id)},
        "user": {"__typename": "User", "id": gid(kombo_id, "User")},
    }
