"""Every filter, alone and combined, against ground truth from the sandbox's own data.

Id filters take Kombo's ids or the global ids of the right type (CONTRACT 1.3): both forms are
used below, and mixed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gateway.sandbox.data import INTEGRATIONS, interviews_for
from tests.support.clients import Gateway, Sandbox
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.truth import gid, ids, job_id, visible

LIST = """
query List($filter: InterviewFilter, $after: String) {
  interviews(first: 250, filter: $filter, after: $after) {
    nodes { id komboId remoteDeletedAt }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def listed(gateway: Gateway, flt: dict[str, Any], integration: str | None = None) -> list[str]:
    """The Kombo id of every interview the gateway lists for this filter, across pages (each
    one's global ``id`` checked against it)."""
    headers = {"X-Integration-Id": integration} if integration else {}
    found: list[str] = []
    after = None
    while True:
        data = gateway.query(LIST, {"filter": flt, "after": after}, headers=headers)
        connection = data["interviews"]
        nodes = connection["nodes"]
        assert [n["id"] for n in nodes] == [gid(n["komboId"]) for n in nodes]
        found += [n["komboId"] for n in nodes]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


ALL = interviews_for(DEFAULT_INTEGRATION)
VISIBLE = visible(DEFAULT_INTEGRATION)
DELETED = [i for i in ALL if i.payload["remote_deleted_at"] is not None]


def job_gid(kombo_id: str) -> str:
    return gid(kombo_id, "Job")


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts)


@pytest.mark.parametrize("as_given", [str, gid], ids=["kombo-ids", "global-ids"])
def test_ids_filter_returns_those_interviews_in_upstream_order(
    gateway: Gateway, as_given: Callable[[str], str]
) -> None:
    wanted = [VISIBLE[40], VISIBLE[3], VISIBLE[17]]
    expected = [i.payload["id"] for i in VISIBLE if i in wanted]
    assert listed(gateway, {"ids": [as_given(w.payload["id"]) for w in wanted]}) == expected


def test_ids_filter_hides_deleted_interviews_unless_include_deleted(gateway: Gateway) -> None:
    deleted_id = DELETED[0].payload["id"]
    live_id = VISIBLE[0].payload["id"]
    # One global id and one Kombo id in the same list.
    given = [gid(deleted_id), live_id]
    assert listed(gateway, {"ids": given}) == [live_id]
    both = listed(gateway, {"ids": given, "includeDeleted": True})
    assert sorted(both) == sorted([deleted_id, live_id])


def test_include_deleted_lists_every_interview(gateway: Gateway) -> None:
    assert listed(gateway, {"includeDeleted": True}) == ids(ALL)


def test_remote_ids_filter(gateway: Gateway) -> None:
    remote_ids = [VISIBLE[5].payload["remote_id"], VISIBLE[90].payload["remote_id"], "no-such"]
    expected = [i.payload["id"] for i in VISIBLE if i.payload["remote_id"] in remote_ids]
    assert expected and listed(gateway, {"remoteIds": remote_ids}) == expected


@pytest.mark.parametrize("as_given", [str, job_gid], ids=["kombo-ids", "global-ids"])
def test_job_ids_filter_returns_interviews_of_any_of_those_jobs(
    gateway: Gateway, as_given: Callable[[str], str]
) -> None:
    jobs = sorted({job_id(i.payload) for i in VISIBLE if job_id(i.payload)})[:2]
    expected = [i.payload["id"] for i in VISIBLE if job_id(i.payload) in jobs]
    assert len(expected) > 2
    assert listed(gateway, {"jobIds": [as_given(j) for j in jobs]}) == expected


@pytest.mark.parametrize("offset", ["+00:00", "+02:00", "-05:30"])
def test_updated_after_filter_considers_nested_changes_and_any_offset(
    gateway: Gateway, offset: str
) -> None:
    # A boundary inside the data: some interviews changed (themselves or nested) after it.
    instants = sorted({parse(i.updated_at) for i in VISIBLE})
    boundary = instants[len(instants) // 2]
    expected = [i.payload["id"] for i in VISIBLE if parse(i.updated_at) > boundary]
    sign = 1 if offset[0] == "+" else -1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    given = boundary.astimezone(tz).isoformat()
    assert 0 < len(expected) < len(VISIBLE)
    assert listed(gateway, {"updatedAfter": given}) == expected


def test_combined_filters_are_anded(gateway: Gateway) -> None:
    jobs = sorted({job_id(i.payload) for i in ALL if job_id(i.payload)})[:6]
    boundary = datetime(2024, 6, 1, tzinfo=UTC)
    expected = [
        i.payload["id"] for i in ALL if job_id(i.payload) in jobs and parse(i.updated_at) > boundary
    ]
    got = listed(
        gateway,
        {
            "jobIds": [job_gid(j) for j in jobs],
            "updatedAfter": boundary.isoformat(),
            "includeDeleted": True,
        },
    )
    assert got == expected


def test_unsupported_filter_matches_nothing_unless_ignored(gateway: Gateway) -> None:
    integration = "workday:initech"  # the sandbox's workday cannot filter on remote_ids
    records = visible(integration)
    remote_id = records[0].payload["remote_id"]
    assert listed(gateway, {"remoteIds": [remote_id]}, integration) == []
    ignored = listed(
        gateway, {"remoteIds": [remote_id], "ignoreUnsupportedFilters": True}, integration
    )
    assert ignored == ids(records)


def test_empty_list_filter_matches_nothing_without_asking_upstream(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    assert listed(gateway, {"ids": []}) == []
    assert listed(gateway, {"jobIds": [], "remoteIds": ["x"]}) == []
    assert sandbox.requests() == []


def test_filters_are_sent_upstream_as_the_spec_names_them(
    gateway: Gateway, sandbox: Sandbox
) -> None:
    # A global id goes upstream as its Kombo id, once however it is spelled.
    listed(
        gateway,
        {
            "ids": ["a1", gid("b2"), "b2"],
            "remoteIds": ["r1"],
            "jobIds": ["j1", job_gid("j2"), "j1"],
            "updatedAfter": "2024-05-01T12:30:00.25+02:00",
            "includeDeleted": True,
            "ignoreUnsupportedFilters": True,
        },
    )
    (request,) = sandbox.requests()
    assert request["params"] == {
        "ids": "a1,b2",
        "remote_ids": "r1",
        "job_ids": "j1,j2",
        "updated_after": "2024-05-01T10:30:00.250Z",
        "include_deleted": "true",
        "ignore_unsupported_filters": "true",
        "page_size": "250",
    }


def test_each_integration_sees_only_its_own_interviews(gateway: Gateway) -> None:
    for integration in INTEGRATIONS:
        assert listed(gateway, {}, integration) == ids(visible(integration))
