"""GraphQL over SSE on ``/graphql/stream``, in-process (:mod:`gateway.http.sse`): what is refused
before the stream, and what travels in it. Subscriptions with npm's client:
``tests/e2e/test_live.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from tests.support.live_feed import MemoryFeed

STREAM = {"Accept": "text/event-stream"}


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings.from_env({}), live=MemoryFeed())) as test_client:
        yield test_client


def events(text: str) -> list[tuple[str, Any]]:
    """(event, data) of each event of a stream; comments (keep-alives) left out."""
    parsed = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) if ": " in line else (line.rstrip(":"), "")
            for line in block.splitlines()
            if line and not line.startswith(":")
        )
        if "event" in fields:
            data = fields.get("data", "")
            parsed.append((fields["event"], json.loads(data) if data.strip() else None))
    return parsed


def test_a_query_is_one_next_then_complete(client: TestClient) -> None:
    response = client.get(
        "/graphql/stream", params={"query": "{ tags(first: 1) { nodes { id } } }"}, headers=STREAM
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    (kind, result), end = events(response.text)
    assert kind == "next" and result["data"]["tags"]["nodes"]
    assert end == ("complete", None)


def test_validation_errors_travel_in_the_stream(client: TestClient) -> None:
    response = client.post(
        "/graphql/stream", json={"query": "subscription { changes { nope } }"}, headers=STREAM
    )
    assert response.status_code == 200
    (kind, result), end = events(response.text)
    assert kind == "next" and "data" not in result
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert end == ("complete", None)


@pytest.mark.parametrize(
    ("method", "kwargs", "status"),
    [
        ("PUT", {"json": {"query": "{ __typename }"}}, 405),
        ("POST", {"content": b"{", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, 415),
        ("GET", {"params": {}}, 400),
    ],
)
def test_malformed_requests_are_refused_before_the_stream(
    client: TestClient, method: str, kwargs: dict[str, Any], status: int
) -> None:
    headers = {**STREAM, **kwargs.pop("headers", {})}
    response = client.request(method, "/graphql/stream", headers=headers, **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")


def test_a_client_that_takes_no_event_stream_is_406(client: TestClient) -> None:
    response = client.get(
        "/graphql/stream",
        params={"query": "{ __typename }"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 406
