"""Each filter against a hand-written expectation computed from ``interviews_for()``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.sandbox import INTEGRATIONS, UNSUPPORTED_FILTERS, interviews_for
from tests.sandbox.sandbox_calls import DEFAULT_INTEGRATION, HEADERS, ids, visible, walk

pytestmark = pytest.mark.anyio


def everything(integration_id: str = DEFAULT_INTEGRATION) -> list[dict[str, Any]]:
    return [i.payload for i in interviews_for(integration_id)]


def job_id(payload: dict[str, Any]) -> str | None:
    return ((payload["application"] or {}).get("job") or {}).get("id")


async def results(client: httpx.AsyncClient, params: dict[str, str], **kw: Any) -> list[str]:
    pages = await walk(client, {"page_size": "250", **params}, **kw)
    return ids([p for page in pages for p in page])


def deleted_and_not() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    all_ = everything()
    gone = next(p for p in all_ if p["remote_deleted_at"] is not None)
    alive = [p for p in all_ if p["remote_deleted_at"] is None]
    return gone, alive[3], alive[40]


async def test_deleted_interviews_are_hidden_unless_include_deleted(
    client: httpx.AsyncClient,
) -> None:
    assert await results(client, {}) == ids(visible())
    assert await results(client, {"include_deleted": "false"}) == ids(visible())
    assert await results(client, {"include_deleted": "true"}) == ids(everything())


async def test_ids_filter_returns_the_listed_interviews_in_upstream_order(
    client: httpx.AsyncClient,
) -> None:
    gone, first, second = deleted_and_not()
    asked = [second["id"], gone["id"], first["id"], "unknownId"]
    assert await results(client, {"ids": ",".join(asked)}) == [first["id"], second["id"]]
    with_deleted = await results(client, {"ids": ",".join(asked), "include_deleted": "true"})
    assert with_deleted == [p["id"] for p in everything() if p["id"] in asked]


async def test_remote_ids_filter_matches_remote_id(client: httpx.AsyncClient) -> None:
    remote_ids = [p["remote_id"] for p in visible() if p["remote_id"]][5:9]
    expected = [p["id"] for p in visible() if p["remote_id"] in remote_ids]
    assert len(expected) == 4
    assert await results(client, {"remote_ids": ",".join(remote_ids)}) == expected


async def test_a_composite_remote_id_with_a_colon_can_be_filtered(
    client: httpx.AsyncClient,
) -> None:
    composite = next(p for p in everything() if p["remote_id"] and ":" in p["remote_id"])
    params = {"remote_ids": composite["remote_id"], "include_deleted": "true"}
    assert await results(client, params) == [composite["id"]]


async def test_job_ids_filter_matches_the_applications_job(client: httpx.AsyncClient) -> None:
    job_ids = sorted({j for p in visible() if (j := job_id(p))})[:3]
    expected = [p["id"] for p in visible() if job_id(p) in job_ids]
    assert len(expected) > 3
    assert await results(client, {"job_ids": ",".join(job_ids)}) == expected


async def test_filters_combine_with_and(client: httpx.AsyncClient) -> None:
    job = job_id(next(p for p in visible() if job_id(p)))
    same_job = [p["id"] for p in visible() if job_id(p) == job]
    other_job = next(p["id"] for p in visible() if job_id(p) not in (job, None))
    params = {"ids": ",".join([*same_job[:1], other_job]), "job_ids": job}
    assert await results(client, params) == same_job[:1]


async def test_an_interview_whose_id_is_also_a_user_id_is_found_by_ids(
    client: httpx.AsyncClient,
) -> None:
    user_ids = {u["id"] for p in everything() for u in p["users"]}
    shared = next(p for p in everything() if p["id"] in user_ids)
    params = {"ids": shared["id"], "include_deleted": "true"}
    assert await results(client, params) == [shared["id"]]


async def test_updated_after_keeps_interviews_updated_strictly_after(
    client: httpx.AsyncClient,
) -> None:
    interviews = [
        i for i in interviews_for(DEFAULT_INTEGRATION) if not i.payload["remote_deleted_at"]
    ]
    # The most shared instant: Kombo's initial sync stamped all these at once.
    boundary = Counter(i.updated_at for i in interviews).most_common(1)[0][0]
    at_boundary = {i.payload["id"] for i in interviews if i.updated_at == boundary}
    assert len(at_boundary) > 10
    got = await results(client, {"updated_after": boundary})
    assert got == [i.payload["id"] for i in interviews if i.updated_at > boundary]
    assert got
    assert not at_boundary & set(got)


async def test_updated_after_uses_the_hidden_updated_at_not_changed_at(
    client: httpx.AsyncClient,
) -> None:
    nested = next(
        i
        for i in interviews_for(DEFAULT_INTEGRATION)
        if i.updated_at > i.payload["changed_at"] and not i.payload["remote_deleted_at"]
    )
    params = {"ids": nested.payload["id"], "updated_after": nested.payload["changed_at"]}
    assert await results(client, params) == [nested.payload["id"]]
    params["updated_after"] = nested.updated_at
    assert await results(client, params) == []


@pytest.mark.parametrize(
    ("value", "instant"),
    [
        ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01Z", datetime(2024, 3, 1, tzinfo=UTC)),
        ("2024-03-01T12:30:00", datetime(2024, 3, 1, 12, 30, tzinfo=UTC)),
        ("2024-03-01T12:30:00.5Z", datetime(2024, 3, 1, 12, 30, 0, 500_000, tzinfo=UTC)),
        ("2024-03-01T12:30:00.123456789Z", datetime(2024, 3, 1, 12, 30, 0, 123_456, tzinfo=UTC)),
    ],
)
async def test_updated_after_accepts_every_form_of_the_spec_pattern_as_utc(
    client: httpx.AsyncClient, value: str, instant: datetime
) -> None:
    expected = [
        i.payload["id"]
        for i in interviews_for(DEFAULT_INTEGRATION)
        if datetime.fromisoformat(i.updated_at) > instant and not i.payload["remote_deleted_at"]
    ]
    assert await results(client, {"updated_after": value}) == expected


async def test_updated_after_with_include_deleted_reports_deletions(
    client: httpx.AsyncClient,
) -> None:
    interviews = interviews_for(DEFAULT_INTEGRATION)
    since = "2024-04-01T00:00:00.000Z"
    expected = [i.payload["id"] for i in interviews if i.updated_at > since]
    got = await results(client, {"updated_after": since, "include_deleted": "true"})
    assert got == expected
    assert any(p["remote_deleted_at"] for p in everything() if p["id"] in got)


async def test_data_of_another_integration_is_never_returned(client: httpx.AsyncClient) -> None:
    foreign = ",".join(p["id"] for p in everything(INTEGRATIONS[1])[:20])
    assert await results(client, {"ids": foreign, "include_deleted": "true"}) == []


async def test_an_unsupported_filter_empties_the_result_unless_ignored(
    client: httpx.AsyncClient,
) -> None:
    integration_id, unsupported = next(iter(UNSUPPORTED_FILTERS.items()))
    assert "remote_ids" in unsupported
    headers = {**HEADERS, "X-Integration-Id": integration_id}
    remote_id = next(p["remote_id"] for p in visible(integration_id) if p["remote_id"])
    assert await results(client, {"remote_ids": remote_id}, headers=headers) == []
    params = {"remote_ids": remote_id, "ignore_unsupported_filters": "true"}
    assert await results(client, params, headers=headers) == ids(visible(integration_id))


async def test_supported_filters_ignore_ignore_unsupported_filters(
    client: httpx.AsyncClient,
) -> None:
    remote_id = next(p["remote_id"] for p in visible() if p["remote_id"])
    for flag in ("true", "false"):
        params = {"remote_ids": remote_id, "ignore_unsupported_filters": flag}
        assert len(await results(client, params)) == 1
