"""graphql-transport-ws on ``/graphql``, in-process: the protocol's own rules and close codes
(:mod:`gateway.http.websocket`), queries over the socket, and the persisted-documents policy.

The clients' view over a real server is ``tests/e2e/test_live.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.config import Settings
from gateway.persisted import sha256_hex
from gateway.sandbox import records_for
from gateway.sandbox.data import INTEGRATIONS
from gateway.schema.ids import global_id
from tests.support.live_feed import MemoryFeed
from tests.support.persisted_documents import apollo_manifest, operation

PROTOCOL = ["graphql-transport-ws"]
CHANGES = "subscription C { changes(types: [TAG]) { type node { id } } }"
TAGS = "query T { tags(first: 1) { nodes { id } } }"


@pytest.fixture
def feed() -> MemoryFeed:
    return MemoryFeed()


@pytest.fixture
def client(feed: MemoryFeed) -> Iterator[TestClient]:
    with TestClient(create_app(Settings.from_env({}), live=feed)) as test_client:
        yield test_client


def send(ws: Any, message: dict[str, Any]) -> None:
    ws.send_text(json.dumps(message))


def receive(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(ws.receive_text())
        if message["type"] != "ping":  # keep-alives may come any time
            return dict(message)


def close_code(ws: Any) -> tuple[int, str]:
    with pytest.raises(WebSocketDisconnect) as closed:
        while True:
            ws.receive_text()
    return closed.value.code, closed.value.reason


def acknowledged(ws: Any) -> None:
    send(ws, {"type": "connection_init", "payload": {}})
    assert receive(ws) == {"type": "connection_ack"}


def test_a_change_reaches_the_subscriber_then_complete_ends_it(
    client: TestClient, feed: MemoryFeed
) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        tag = records_for(INTEGRATIONS[0], "Tag")[0].payload
        assert client.portal.call(_publish, feed, INTEGRATIONS[0], "Tag", tag) == 1
        assert receive(ws) == {
            "id": "1",
            "type": "next",
            "payload": {
                "data": {"changes": {"type": "TAG", "node": {"id": global_id("Tag", tag["id"])}}}
            },
        }
        send(ws, {"id": "1", "type": "complete"})
        client.portal.call(_until, lambda: feed.subscriber_count() == 0)


def test_a_query_is_served_over_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        acknowledged(ws)
        send(ws, {"id": "q", "type": "subscribe", "payload": {"query": TAGS}})
        result = receive(ws)
        assert result["type"] == "next" and result["payload"]["data"]["tags"]["nodes"]
        assert receive(ws) == {"id": "q", "type": "complete"}


def test_subscribe_before_the_ack_is_4401(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        assert close_code(ws) == (4401, "Unauthorized")


def test_a_second_connection_init_is_4429(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        acknowledged(ws)
        send(ws, {"type": "connection_init"})
        assert close_code(ws) == (4429, "Too many initialisation requests")


def test_a_running_id_again_is_4409(client: TestClient, feed: MemoryFeed) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        assert close_code(ws) == (4409, "Subscriber for 1 already exists")
    client.portal.call(_until, lambda: feed.subscriber_count() == 0)


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps({"payload": {}}),
        json.dumps({"type": "connection_init", "payload": ["Bearer x"]}),
        json.dumps({"type": "connection_init", "payload": {"Authorization": 1}}),
        json.dumps({"type": "what"}),
    ],
)
def test_malformed_messages_are_4400(client: TestClient, message: str) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        ws.send_text(message)
        assert close_code(ws)[0] == 4400


def test_a_subscribe_without_a_query_is_4400(client: TestClient) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"variables": {}}})
        assert close_code(ws)[0] == 4400


def test_trusted_documents_hold_over_the_socket(tmp_path: Path, feed: MemoryFeed) -> None:
    manifest = tmp_path / "manifest.json"
    trusted = operation(CHANGES, name="C")
    trusted["type"] = "subscription"
    manifest.write_text(apollo_manifest(trusted))
    settings = Settings.from_env({"GATEWAY_TRUSTED_DOCUMENTS": str(manifest)})
    with (
        TestClient(create_app(settings, live=feed)) as client,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws,
    ):
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": TAGS}})
        refused = receive(ws)
        assert refused["type"] == "error" and refused["id"] == "1"
        assert refused["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        by_hash = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(CHANGES)}}
        send(ws, {"id": "2", "type": "subscribe", "payload": {"extensions": by_hash}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)


async def _until(condition: Any, timeout: float = 5) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def _publish(feed: MemoryFeed, integration: str, model: str, record: Any) -> int:
    return feed.publish(integration, model, record)


NESTED = """subscription N {
  changes(types: [INTERVIEW]) {
    type deleted changedAt
    node { id ... on Interview { title canceled users { firstName status } stage { name }
      application { outcome candidate { firstName } job { name status } } } }
  }
}"""


def _first_change(fast_path: bool) -> dict[str, Any]:
    feed = MemoryFeed()
    settings = Settings.from_env({"GATEWAY_FAST_PATH": "true" if fast_path else "false"})
    with (
        TestClient(create_app(settings, live=feed)) as client,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws,
    ):
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": NESTED}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        for record in records_for(INTEGRATIONS[0], "Interview")[:3]:
            client.portal.call(_publish, feed, INTEGRATIONS[0], "Interview", record.payload)
        return {"changes": [receive(ws) for _ in range(3)]}


def test_the_fast_path_completes_changes_as_graphql_core_does() -> None:
    fast = _first_change(fast_path=True)
    assert all("errors" not in m["payload"] for m in fast["changes"]), fast
    assert fast == _first_change(fast_path=False)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser
        ("http://testserver", True),  # the gateway's own page (GraphiQL)
        ("https://app.example.com", True),  # GATEWAY_CORS_ORIGINS
        ("https://evil.example", False),
        ("http://testserver.evil.example", False),
    ],
)
def test_browsers_of_other_sites_are_refused(origin: str | None, allowed: bool) -> None:
    settings = Settings.from_env({"GATEWAY_CORS_ORIGINS": "https://app.example.com"})
    headers = {} if origin is None else {"Origin": origin}
    with TestClient(create_app(settings, live=MemoryFeed())) as client:
        if allowed:
            with client.websocket_connect("/graphql", PROTOCOL, headers=headers) as ws:
                acknowledged(ws)
        else:
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect("/graphql", PROTOCOL, headers=headers),
            ):
                pass
            assert refused.value.code == 4403


def test_the_feeds_own_limit_ends_the_operation_with_an_error() -> None:
    feed = MemoryFeed(max_subscriptions=1)
    with (
        TestClient(create_app(Settings.from_env({}), live=feed)) as client,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws,
    ):
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        send(ws, {"id": "2", "type": "subscribe", "payload": {"query": CHANGES}})
        refused = receive(ws)
        assert refused["id"] == "2" and refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        assert "1 subscriptions already" in refused["payload"][0]["message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"X-Integration-Id": INTEGRATIONS[1]},
        {"x-integration-id": INTEGRATIONS[1]},
        {"headers": {"X-INTEGRATION-ID": INTEGRATIONS[1]}},
    ],
)
def test_connection_init_payload_is_read_as_headers(
    client: TestClient, feed: MemoryFeed, payload: dict[str, Any]
) -> None:
    with client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws:
        send(ws, {"type": "connection_init", "payload": payload})
        assert receive(ws) == {"type": "connection_ack"}
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": CHANGES}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        (subscription,) = feed.subscriptions
        assert subscription.integration_id == INTEGRATIONS[1]


def test_no_secret_leaves_in_a_websocket_message() -> None:
    key = "kombo-live-test-api-key-0123456789abcdef"
    feed = MemoryFeed()
    settings = Settings.from_env({"KOMBO_API_KEY": key, "KOMBO_INTEGRATION_ID": INTEGRATIONS[0]})
    record = dict(records_for(INTEGRATIONS[0], "Interview")[0].payload)
    record["title"] = f"leaked {key} here"
    query = "subscription T { changes { node { ... on Interview { title } } } }"
    with (
        TestClient(create_app(settings, live=feed)) as client,
        client.websocket_connect("/graphql", subprotocols=PROTOCOL) as ws,
    ):
        acknowledged(ws)
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": query}})
        client.portal.call(_until, lambda: feed.subscriber_count() == 1)
        client.portal.call(_publish, feed, INTEGRATIONS[0], "Interview", record)
        change = receive(ws)
    title = change["payload"]["data"]["changes"]["node"]["title"]
    assert key not in json.dumps(change)
    assert title == "leaked [redacted] here"
