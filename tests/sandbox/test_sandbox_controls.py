"""The test controls: request log, fault queue, latency, health; and serving over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from gateway.sandbox import create_sandbox_app
from tests.sandbox.sandbox_calls import API_KEY, HEADERS, INTERVIEWS, ids, visible

pytestmark = pytest.mark.anyio

FAULT_BODY = {
    "status": "error",
    "error": {
        "code": "REMOTE.SERVICE_UNAVAILABLE",
        "title": None,
        "message": "down",
        "log_url": None,
    },
}


async def test_healthz_answers_200(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200


async def test_the_request_log_records_each_request_in_order(client: httpx.AsyncClient) -> None:
    await client.get(INTERVIEWS, params={"page_size": "5", "ids": "a,b"})
    await client.get(
        INTERVIEWS, headers={"Authorization": "Bearer nope", "X-Integration-Id": "x:y"}
    )
    client.headers.pop("X-Integration-Id")
    await client.get(INTERVIEWS, params={"include_deleted": "true"})
    log = (await client.get("/__sandbox/requests")).json()["requests"]
    assert log == [
        {
            "method": "GET",
            "path": INTERVIEWS,
            "params": {"page_size": "5", "ids": "a,b"},
            "integration_id": HEADERS["X-Integration-Id"],
            "authorization_ok": True,
        },
        {
            "method": "GET",
            "path": INTERVIEWS,
            "params": {},
            "integration_id": "x:y",
            "authorization_ok": False,
        },
        {
            "method": "GET",
            "path": INTERVIEWS,
            "params": {"include_deleted": "true"},
            "integration_id": None,
            "authorization_ok": True,
        },
    ]


async def test_the_request_log_never_holds_the_key(client: httpx.AsyncClient) -> None:
    await client.get(INTERVIEWS)
    assert API_KEY not in (await client.get("/__sandbox/requests")).text


async def test_delete_clears_the_request_log(client: httpx.AsyncClient) -> None:
    await client.get(INTERVIEWS)
    assert (await client.delete("/__sandbox/requests")).is_success
    assert (await client.get("/__sandbox/requests")).json() == {"requests": []}


async def test_the_fault_queue_serves_n_canned_answers_then_normal_ones(
    client: httpx.AsyncClient,
) -> None:
    fault = {"status": 503, "body": FAULT_BODY, "headers": {"Retry-After": "2"}, "times": 2}
    assert (await client.post("/__sandbox/faults", json=fault)).status_code == 201
    for _ in range(2):
        response = await client.get(INTERVIEWS, params={"page_size": "3"})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json() == FAULT_BODY
    normal = await client.get(INTERVIEWS, params={"page_size": "3"})
    assert normal.status_code == 200
    assert ids(normal.json()["data"]["results"]) == ids(visible()[:3])
    log = (await client.get("/__sandbox/requests")).json()["requests"]
    assert [entry["params"] for entry in log] == [{"page_size": "3"}] * 3


async def test_faults_are_served_in_the_order_queued(client: httpx.AsyncClient) -> None:
    await client.post("/__sandbox/faults", json={"status": 500, "body": {"n": 1}})
    await client.post("/__sandbox/faults", json={"status": 429, "body": {"n": 2}})
    assert (await client.get(INTERVIEWS)).status_code == 500
    assert (await client.get(INTERVIEWS)).status_code == 429
    assert (await client.get(INTERVIEWS)).status_code == 200


async def test_a_raw_fault_body_is_served_verbatim(client: httpx.AsyncClient) -> None:
    await client.post("/__sandbox/faults", json={"status": 200, "raw": '{"status": "succ'})
    response = await client.get(INTERVIEWS)
    assert response.status_code == 200
    assert response.text == '{"status": "succ'
    assert response.headers["content-type"] == "application/json"


async def test_a_fault_without_body_is_empty_and_headers_override_the_type(
    client: httpx.AsyncClient,
) -> None:
    fault = {"status": 502, "body": None, "headers": {"Content-Type": "text/html"}}
    await client.post("/__sandbox/faults", json=fault)
    response = await client.get(INTERVIEWS)
    assert (response.status_code, response.content) == (502, b"")
    assert response.headers["content-type"] == "text/html"


async def test_a_fault_is_served_whatever_the_request(client: httpx.AsyncClient) -> None:
    await client.post("/__sandbox/faults", json={"status": 200, "body": {"ok": True}})
    client.headers.pop("Authorization")
    response = await client.get(INTERVIEWS, params={"page_size": "9999"})
    assert response.json() == {"ok": True}


async def test_a_fault_delay_delays_the_answer(client: httpx.AsyncClient) -> None:
    await client.post("/__sandbox/faults", json={"status": 504, "body": None, "delay": 0.3})
    started = time.monotonic()
    assert (await client.get(INTERVIEWS)).status_code == 504
    assert time.monotonic() - started >= 0.3


async def test_delete_clears_the_fault_queue(client: httpx.AsyncClient) -> None:
    await client.post("/__sandbox/faults", json={"status": 500, "times": 5})
    assert len((await client.get("/__sandbox/faults")).json()["faults"]) == 1
    assert (await client.delete("/__sandbox/faults")).is_success
    assert (await client.get(INTERVIEWS)).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"status": "500"},
        {"status": 1000},
        {"status": 500, "times": 0},
        {"status": 500, "delay": -1},
        {"status": 500, "raw": 5},
        {"status": 500, "raw": "x", "body": {"y": 1}},
        {"status": 500, "headers": {"X": 1}},
        {"status": 500, "typo": True},
        [],
    ],
)
async def test_an_invalid_fault_is_refused(client: httpx.AsyncClient, fault: object) -> None:
    assert (await client.post("/__sandbox/faults", json=fault)).status_code == 400
    assert (await client.get(INTERVIEWS)).status_code == 200


async def test_latency_delays_every_interviews_answer() -> None:
    transport = httpx.ASGITransport(app=create_sandbox_app(latency=0.2))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        started = time.monotonic()
        response = await http.get(INTERVIEWS, headers={**HEADERS, "Authorization": "Bearer k"})
        assert response.status_code == 200
        assert time.monotonic() - started >= 0.2


@pytest.fixture
def served_sandbox() -> Iterator[str]:
    """The sandbox app under uvicorn on a free loopback port, in a thread."""
    config = uvicorn.Config(
        create_sandbox_app(api_key=API_KEY), host="127.0.0.1", port=0, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_pagination_works_over_real_http(served_sandbox: str) -> None:
    seen: list[str] = []
    with httpx.Client(base_url=served_sandbox, headers=HEADERS) as http:
        params = {"page_size": "17"}
        while True:
            data = http.get(INTERVIEWS, params=params).raise_for_status().json()["data"]
            seen += ids(data["results"])
            if data["next"] is None:
                break
            params = {"page_size": "17", "cursor": data["next"]}
    assert seen == ids(visible())
