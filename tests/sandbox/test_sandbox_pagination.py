"""Pagination: each interview exactly once, ``next`` null at the end, cursors bound to the query."""

from __future__ import annotations

import base64

import httpx
import pytest

from gateway.sandbox import INTEGRATIONS, interviews_for
from tests.sandbox.sandbox_calls import (
    DEFAULT_INTEGRATION,
    HEADERS,
    INTERVIEWS,
    assert_input_invalid,
    ids,
    visible,
    walk,
)

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("page_size", [1, 7, 100, 241, 250])
async def test_pagination_walks_every_visible_interview_once_in_order(
    client: httpx.AsyncClient, page_size: int
) -> None:
    pages = await walk(client, {"page_size": str(page_size)})
    assert [len(page) for page in pages[:-1]] == [page_size] * (len(pages) - 1)
    assert 1 <= len(pages[-1]) <= page_size
    assert ids([p for page in pages for p in page]) == ids(visible())


@pytest.mark.parametrize("integration_id", INTEGRATIONS)
async def test_pagination_with_include_deleted_walks_every_interview(
    client: httpx.AsyncClient, integration_id: str
) -> None:
    headers = {**HEADERS, "X-Integration-Id": integration_id}
    pages = await walk(client, {"page_size": "33", "include_deleted": "true"}, headers=headers)
    expected = [i.payload for i in interviews_for(integration_id)]
    assert [p for page in pages for p in page] == expected


async def test_the_default_page_size_is_100(client: httpx.AsyncClient) -> None:
    pages = await walk(client, {})
    assert [len(page) for page in pages] == [100, 100, len(visible()) - 200]


@pytest.mark.parametrize("page_size", [65, 130])
async def test_next_is_null_when_results_end_exactly_at_a_page_boundary(
    client: httpx.AsyncClient, page_size: int
) -> None:
    params = {"page_size": str(page_size), "include_deleted": "true"}
    pages = await walk(client, params)
    assert [len(page) for page in pages] == [page_size] * (260 // page_size)


async def test_an_empty_result_is_one_page_with_next_null(client: httpx.AsyncClient) -> None:
    response = await client.get(INTERVIEWS, params={"ids": "doesNotExist"})
    assert response.json() == {"status": "success", "data": {"next": None, "results": []}}


async def test_the_same_query_gives_the_same_cursor(client: httpx.AsyncClient) -> None:
    first = await client.get(INTERVIEWS, params={"page_size": "10"})
    second = await client.get(INTERVIEWS, params={"page_size": "10"})
    assert first.json()["data"]["next"] == second.json()["data"]["next"] is not None


async def next_cursor(client: httpx.AsyncClient, params: dict[str, str]) -> str:
    response = await client.get(INTERVIEWS, params=params)
    cursor = response.json()["data"]["next"]
    assert isinstance(cursor, str)
    return cursor


@pytest.mark.parametrize(
    "changed",
    [
        {"page_size": "11"},  # another page size
        {"page_size": "10", "include_deleted": "true"},  # a filter added
        {"page_size": "10", "include_deleted": "false"},  # the default, now explicit
        {"page_size": "10", "updated_after": "2024-01-01T00:00:00.000Z"},
        {"page_size": "10", "job_ids": "x", "ids": "y"},
        {},  # page_size dropped
    ],
)
async def test_a_cursor_replayed_with_other_parameters_is_input_invalid(
    client: httpx.AsyncClient, changed: dict[str, str]
) -> None:
    cursor = await next_cursor(client, {"page_size": "10"})
    response = await client.get(INTERVIEWS, params={**changed, "cursor": cursor})
    assert_input_invalid(response, "cursor")


async def test_a_cursor_replayed_with_another_integration_is_input_invalid(
    client: httpx.AsyncClient,
) -> None:
    cursor = await next_cursor(client, {"page_size": "10"})
    response = await client.get(
        INTERVIEWS,
        params={"page_size": "10", "cursor": cursor},
        headers={"X-Integration-Id": INTEGRATIONS[1]},
    )
    assert_input_invalid(response, "cursor")


async def test_a_tampered_cursor_is_input_invalid(client: httpx.AsyncClient) -> None:
    cursor = await next_cursor(client, {"page_size": "10"})
    raw = bytearray(base64.b64decode(cursor))
    for position in range(len(raw)):
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        params = {"page_size": "10", "cursor": base64.b64encode(tampered).decode()}
        assert_input_invalid(await client.get(INTERVIEWS, params=params), "cursor")


@pytest.mark.parametrize("cursor", ["", "not base64!", "AAAA", "eyJwYWdlIjoxMn0="])
async def test_a_foreign_cursor_is_input_invalid(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get(INTERVIEWS, params={"page_size": "10", "cursor": cursor})
    assert_input_invalid(response, "cursor")


async def test_a_cursor_must_be_url_encoded(client: httpx.AsyncClient) -> None:
    """Cursors are standard base64: an unencoded ``+`` arrives as a space and is rejected."""
    params = {"page_size": "1", "include_deleted": "true"}
    cursor = await next_cursor(client, params)
    while "+" not in cursor:
        response = await client.get(INTERVIEWS, params={**params, "cursor": cursor})
        cursor = response.json()["data"]["next"]
    ok = await client.get(INTERVIEWS, params={**params, "cursor": cursor})
    assert ok.status_code == 200
    raw_url = f"{INTERVIEWS}?page_size=1&include_deleted=true&cursor={cursor}"
    assert_input_invalid(await client.get(raw_url), "cursor")


async def test_pages_resume_where_the_cursor_points(client: httpx.AsyncClient) -> None:
    params = {"page_size": "50", "job_ids": ",".join(_some_job_ids(6))}
    pages = await walk(client, params)
    expected = [p for p in visible() if _job_id(p) in set(params["job_ids"].split(","))]
    assert len(pages) > 1
    assert [p for page in pages for p in page] == expected


def _job_id(payload: dict) -> str | None:
    return ((payload["application"] or {}).get("job") or {}).get("id")


def _some_job_ids(count: int) -> list[str]:
    seen: dict[str, None] = {}
    for payload in visible(DEFAULT_INTEGRATION):
        if (job_id := _job_id(payload)) is not None:
            seen.setdefault(job_id)
    return list(seen)[:count]
