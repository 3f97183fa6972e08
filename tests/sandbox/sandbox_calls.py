"""Calls to the sandbox upstream shared by its tests, and the expectations they compare with."""

from __future__ import annotations

from typing import Any

import httpx

from gateway.sandbox import INTEGRATIONS, interviews_for

API_KEY = "sandbox-test-key"
DEFAULT_INTEGRATION = INTEGRATIONS[0]
HEADERS = {"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": DEFAULT_INTEGRATION}
INTERVIEWS = "/v1/ats/interviews"


def visible(integration_id: str = DEFAULT_INTEGRATION) -> list[dict[str, Any]]:
    """The payloads a query without filters returns, in upstream order."""
    return [
        i.payload for i in interviews_for(integration_id) if i.payload["remote_deleted_at"] is None
    ]


def ids(payloads: list[dict[str, Any]]) -> list[str]:
    return [p["id"] for p in payloads]


async def walk(
    client: httpx.AsyncClient, params: dict[str, str], *, path: str = INTERVIEWS, **kwargs: Any
) -> list[list[dict[str, Any]]]:
    """Every page of one query to ``path``, following ``next`` until it is null."""
    pages = []
    cursor = None
    while True:
        response = await client.get(
            path, params={**params, **({"cursor": cursor} if cursor else {})}, **kwargs
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        pages.append(data["results"])
        cursor = data["next"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "pagination does not end"


def assert_input_invalid(response: httpx.Response, parameter: str) -> None:
    """A 400 ``PLATFORM.INPUT_INVALID`` whose message names ``parameter``."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert f"`{parameter}`" in body["error"]["message"]
