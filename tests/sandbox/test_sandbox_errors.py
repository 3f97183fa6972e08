"""Errors: Kombo's error body, auth, integration and parameter validation."""

from __future__ import annotations

import re

import httpx
import pytest

from gateway.sandbox import MODEL_NOT_AVAILABLE_INTEGRATION, create_sandbox_app
from tests.sandbox.sandbox_calls import API_KEY, HEADERS, INTERVIEWS, assert_input_invalid

pytestmark = pytest.mark.anyio

LOG_URL = re.compile(r"https://app\.kombo\.dev/sandbox/logs\?interactionId=\d+")


def assert_error(response: httpx.Response, status: int, code: str | None) -> dict:
    """Kombo's error body, with all four keys, and the given status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error"
    assert set(body["error"]) == {"code", "title", "message", "log_url"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert LOG_URL.fullmatch(body["error"]["log_url"])
    return body["error"]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", f"Basic {API_KEY}", "Bearer wrong-key", API_KEY],
)
async def test_a_missing_or_wrong_bearer_key_is_authentication_invalid(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"X-Integration-Id": HEADERS["X-Integration-Id"]}
    if authorization is not None:
        headers["Authorization"] = authorization
    client.headers.pop("Authorization")
    error = assert_error(
        await client.get(INTERVIEWS, headers=headers), 401, "PLATFORM.AUTHENTICATION_INVALID"
    )
    assert API_KEY not in str(error)


async def test_without_a_configured_key_any_bearer_is_accepted() -> None:
    transport = httpx.ASGITransport(app=create_sandbox_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        headers = {"X-Integration-Id": HEADERS["X-Integration-Id"]}
        ok = await http.get(INTERVIEWS, headers={**headers, "Authorization": "bearer anything"})
        assert ok.status_code == 200
        missing = await http.get(INTERVIEWS, headers=headers)
        assert_error(missing, 401, "PLATFORM.AUTHENTICATION_INVALID")


async def test_auth_is_checked_before_the_integration(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")
    response = await client.get(INTERVIEWS, headers={"X-Integration-Id": "nope:unknown"})
    assert_error(response, 401, "PLATFORM.AUTHENTICATION_INVALID")


@pytest.mark.parametrize("integration_id", [None, ""])
async def test_a_missing_integration_header_is_input_invalid(
    client: httpx.AsyncClient, integration_id: str | None
) -> None:
    client.headers.pop("X-Integration-Id")
    headers = {} if integration_id is None else {"X-Integration-Id": integration_id}
    error = assert_error(
        await client.get(INTERVIEWS, headers=headers), 400, "PLATFORM.INPUT_INVALID"
    )
    assert "X-Integration-Id" in error["message"]


async def test_an_unknown_integration_is_integration_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get(INTERVIEWS, headers={"X-Integration-Id": "join:HWUTwvyx2wLo"})
    assert_error(response, 404, "PLATFORM.INTEGRATION_NOT_FOUND")


async def test_the_integration_without_interviews_is_model_not_available(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        INTERVIEWS, headers={"X-Integration-Id": MODEL_NOT_AVAILABLE_INTEGRATION}
    )
    error = assert_error(response, 403, "INTEGRATION.MODEL_NOT_AVAILABLE")
    assert error["title"]


async def test_each_error_has_its_own_log_url(client: httpx.AsyncClient) -> None:
    params = {"page_size": "0"}
    first = (await client.get(INTERVIEWS, params=params)).json()["error"]["log_url"]
    second = (await client.get(INTERVIEWS, params=params)).json()["error"]["log_url"]
    assert first != second


@pytest.mark.parametrize("page_size", ["1", "250", "007"])
async def test_page_size_accepts_1_to_250(client: httpx.AsyncClient, page_size: str) -> None:
    params = {"page_size": page_size, "include_deleted": "true"}  # 260 interviews
    response = await client.get(INTERVIEWS, params=params)
    assert response.status_code == 200
    assert len(response.json()["data"]["results"]) == int(page_size)


@pytest.mark.parametrize("page_size", ["0", "251", "-1", "abc", "1.5", "", " 5", "1e2", "٣"])
async def test_page_size_out_of_bounds_or_not_an_integer_is_input_invalid(
    client: httpx.AsyncClient, page_size: str
) -> None:
    assert_input_invalid(await client.get(INTERVIEWS, params={"page_size": page_size}), "page_size")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2024-03-01T12:30Z",  # no seconds
        "2024-03-01 12:30:00Z",
        "2024-03-01T12:30:00+02:00",  # offsets are not in the spec's pattern
        "2024-02-30",  # matches the pattern, but is no date
        "2024-03-01T24:00:00Z",
        "2024-03-01T12:30:00.Z",
        "2024-03-01\n",
    ],
)
async def test_updated_after_outside_the_spec_pattern_is_input_invalid(
    client: httpx.AsyncClient, value: str
) -> None:
    params = {"updated_after": value}
    assert_input_invalid(await client.get(INTERVIEWS, params=params), "updated_after")


@pytest.mark.parametrize("name", ["include_deleted", "ignore_unsupported_filters"])
@pytest.mark.parametrize("value", ["TRUE", "1", "yes", ""])
async def test_booleans_other_than_true_or_false_are_input_invalid(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    assert_input_invalid(await client.get(INTERVIEWS, params={name: value}), name)


@pytest.mark.parametrize("name", ["ids", "remote_ids", "job_ids"])
@pytest.mark.parametrize("value", ["", ",", "a,,b", "a,"])
async def test_lists_with_an_empty_entry_are_input_invalid(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    assert_input_invalid(await client.get(INTERVIEWS, params={name: value}), name)


async def test_an_unknown_parameter_is_input_invalid(client: httpx.AsyncClient) -> None:
    assert_input_invalid(await client.get(INTERVIEWS, params={"pageSize": "5"}), "pageSize")


async def test_a_repeated_parameter_is_input_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get(INTERVIEWS, params=[("ids", "a"), ("ids", "b")])
    assert_input_invalid(response, "ids")


async def test_an_unknown_route_under_v1_is_a_kombo_style_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/ats/interview"), 404, None)
    assert_error(await client.post(INTERVIEWS), 404, None)


async def test_a_success_body_has_status_and_data(client: httpx.AsyncClient) -> None:
    response = await client.get(INTERVIEWS, params={"page_size": "1"})
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "data"}
    assert body["status"] == "success"
    assert set(body["data"]) == {"next", "results"}
