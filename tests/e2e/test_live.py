"""Live changes over both transports, with npm's own clients (README "Live changes").

A gateway process in JWT mode reads the sandbox process as its upstream; its change feed is an
in-memory one the tests publish raw Kombo records to (:mod:`tests.support.live_gateway`), so that
what each subscriber receives is decided here. npm's ``graphql-ws`` (WebSocket,
``graphql-transport-ws``) and ``graphql-sse`` (SSE, distinct connections) subscribe
(``tests/e2e/live/subscribe.mjs``) and print what they get.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from gateway.sandbox import records_for
from gateway.sandbox.data import INTEGRATIONS
from gateway.schema.ids import global_id
from tests.support.clients import Sandbox
from tests.support.live_clients import LiveGateway, live_gateway
from tests.support.tenancy_tokens import AUDIENCE, ISSUER, Issuer, make_issuer

A, B = INTEGRATIONS[0], INTEGRATIONS[1]
TRANSPORTS = ["ws", "sse"]
ORIGIN = "https://app.example.com"
MAX_PER_CONNECTION = 3
IDLE_SECONDS = 1.5

CHANGES = """subscription Changes($types: [NodeType!]) {
  changes(types: $types) { type deleted changedAt node { id __typename } }
}"""
NESTED = """subscription Nested {
  changes(types: [INTERVIEW]) {
    type
    node {
      id
      ... on Interview { title users { status } stage { name } application { job { status } } }
    }
  }
}"""


def raw(model: str, integration: str = A, index: int = 0) -> dict[str, Any]:
    """A sandbox record as Kombo's list endpoint returns it."""
    return copy.deepcopy(records_for(integration, model)[index].payload)


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return make_issuer("HS256")


@pytest.fixture(scope="module")
def live(sandbox_url: str, server_logs: Path, issuer: Issuer) -> Iterator[LiveGateway]:
    with live_gateway(
        sandbox_url,
        server_logs / "gateway-live.log",
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_CORS_ORIGINS=ORIGIN,
        GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION=str(MAX_PER_CONNECTION),
        GATEWAY_LIVE_IDLE_SECONDS=str(IDLE_SECONDS),
        GATEWAY_LIVE_INIT_TIMEOUT_SECONDS="1",
        GATEWAY_LIVE_KEEPALIVE_SECONDS="0.5",
        **issuer.gateway_env,
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def no_subscriber_left(live: LiveGateway) -> Iterator[None]:
    """Each test starts with no subscription, and ends its clients."""
    live.close_clients()
    live.wait_for_subscribers(0)
    yield
    live.close_clients()


def auth(issuer: Issuer, integration: str, transport: str, **claims: Any) -> dict[str, str]:
    """The credentials a client sends: connection_init's payload (ws) or headers (sse)."""
    token = issuer.token(integration, **claims)
    name = "authorization" if transport == "ws" else "Authorization"
    return {name: f"Bearer {token}"}


# -- who gets what ----------------------------------------------------------------------------


def test_each_subscriber_gets_only_its_types_and_its_integration(
    live: LiveGateway, issuer: Issuer
) -> None:
    a_interviews = live.subscribe(
        CHANGES, variables={"types": ["INTERVIEW"]}, params=auth(issuer, A, "ws")
    )
    a_candidates = live.subscribe(
        CHANGES,
        transport="sse",
        variables={"types": ["CANDIDATE"]},
        params=auth(issuer, A, "sse"),
    )
    b_everything = live.subscribe(CHANGES, params=auth(issuer, B, "ws"))
    live.wait_for_subscribers(3)

    b_interview, a_candidate, a_interview = raw("Interview", B), raw("Candidate"), raw("Interview")
    # Each subscriber's first result is what it should get, published last for it: anything
    # it should not get was published before and would have come first.
    assert live.publish(B, "Interview", b_interview) == 1
    assert live.publish(A, "Candidate", a_candidate) == 1
    assert live.publish(A, "Interview", a_interview) == 1
    change = b_everything.next_result()["data"]["changes"]
    assert change["node"]["id"] == global_id("Interview", b_interview["id"])
    assert change["type"] == "INTERVIEW" and change["deleted"] is False
    assert change["changedAt"] == b_interview["changed_at"]
    change = a_candidates.next_result()["data"]["changes"]
    assert change["node"] == {
        "id": global_id("Candidate", a_candidate["id"]),
        "__typename": "Candidate",
    }
    change = a_interviews.next_result()["data"]["changes"]
    assert change["node"]["id"] == global_id("Interview", a_interview["id"])

    # And nothing else follows: the next result of each is the next record meant for it.
    sentinels = {
        "b": (B, "Job", raw("Job", B)),
        "a_candidates": (A, "Candidate", raw("Candidate", A, 1)),
        "a_interviews": (A, "Interview", raw("Interview", A, 1)),
    }
    for integration, model, record in sentinels.values():
        live.publish(integration, model, record)
    for subscriber, (_, model, record) in zip(
        (b_everything, a_candidates, a_interviews), sentinels.values(), strict=True
    ):
        assert subscriber.next_result()["data"]["changes"]["node"]["id"] == global_id(
            model, record["id"]
        )


def test_the_integration_comes_from_the_token_never_from_a_header(
    live: LiveGateway, issuer: Issuer
) -> None:
    params = {**auth(issuer, A, "ws"), "X-Integration-Id": B}
    refused = live.subscribe(CHANGES, params=params)
    closed = refused.wait_for(lambda line: line["event"] == "closed")
    assert closed["code"] == 4403
    assert "another integration" in closed["reason"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_bad_token_is_refused(live: LiveGateway, issuer: Issuer, transport: str) -> None:
    impostor = issuer.impostor()
    subscriber = live.subscribe(CHANGES, transport=transport, params=auth(impostor, A, transport))
    if transport == "ws":
        closed = subscriber.wait_for(lambda line: line["event"] == "closed")
        assert closed["code"] == 4403
        assert closed["reason"].startswith("Forbidden: The bearer token's signature")
    else:
        error = subscriber.wait_for(lambda line: line["event"] == "error")
        assert "401" in json.dumps(error) or "signature" in json.dumps(error)
    assert live.subscriber_count() == 0


# -- what arrives -----------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_nested_fields_resolve_batched_and_fresh_for_each_change(
    live: LiveGateway, issuer: Issuer, sandbox_url: str, transport: str
) -> None:
    sandbox = Sandbox(sandbox_url)
    subscriber = live.subscribe(NESTED, transport=transport, params=auth(issuer, A, transport))
    live.wait_for_subscribers(1)
    sandbox.clear()
    interview = raw("Interview")
    live.publish(A, "Interview", interview)
    node = subscriber.next_result()["data"]["changes"]["node"]

    users = {u["id"]: u for u in (r.payload for r in records_for(A, "User"))}
    stages = {s["id"]: s for s in (r.payload for r in records_for(A, "ApplicationStage"))}
    jobs = {j["id"]: j for j in (r.payload for r in records_for(A, "Job"))}
    assert node["title"] == interview["title"]
    assert [u["status"] for u in node["users"]] == [
        users[u["id"]]["status"] for u in interview["users"]
    ]
    assert node["stage"] == {"name": stages[interview["stage_id"]]["name"]}
    assert node["application"]["job"] == {
        "status": jobs[interview["application"]["job"]["id"]]["status"]
    }
    # One `ids=` call per model for the whole change: the users completed in one batch.
    calls = Counter(r["path"] for r in sandbox.requests())
    expected = Counter({"/v1/ats/users": 1, "/v1/ats/application-stages": 1, "/v1/ats/jobs": 1})
    assert calls == expected
    user_call = next(r for r in sandbox.requests() if r["path"] == "/v1/ats/users")
    assert sorted(user_call["params"]["ids"].split(",")) == sorted(
        u["id"] for u in interview["users"]
    )

    # The same record again: nothing was kept from the first change, so the same calls again.
    live.publish(A, "Interview", interview)
    assert subscriber.next_result()["data"]["changes"]["node"] == node
    calls = Counter(r["path"] for r in sandbox.requests())
    assert calls == expected + expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_deletion_arrives_with_deleted_true(
    live: LiveGateway, issuer: Issuer, transport: str
) -> None:
    subscriber = live.subscribe(
        CHANGES,
        transport=transport,
        variables={"types": ["APPLICATION"]},
        params=auth(issuer, A, transport),
    )
    live.wait_for_subscribers(1)
    record = raw("Application")
    record["remote_deleted_at"] = "2026-12-06T09:00:00.000Z"
    record["changed_at"] = "2026-12-06T09:00:01.000Z"
    live.publish(A, "Application", record)
    change = subscriber.next_result()["data"]["changes"]
    assert change == {
        "type": "APPLICATION",
        "deleted": True,
        "changedAt": "2026-12-06T09:00:01.000Z",
        "node": {"id": global_id("Application", record["id"]), "__typename": "Application"},
    }


# -- limits -----------------------------------------------------------------------------------


def test_one_subscription_too_many_on_a_connection_is_refused(
    live: LiveGateway, issuer: Issuer
) -> None:
    subscriber = live.subscribe(CHANGES, params=auth(issuer, A, "ws"), count=MAX_PER_CONNECTION + 1)
    error = subscriber.wait_for(lambda line: line["event"] == "error")
    assert error["error"][0]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
    assert "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION" in error["error"][0]["message"]
    live.wait_for_subscribers(MAX_PER_CONNECTION)
    # The others run on.
    record = raw("Tag")
    assert live.publish(A, "Tag", record) == MAX_PER_CONNECTION
    received = [subscriber.wait_for(lambda line: line["event"] == "next") for _ in range(3)]
    assert sorted(line["sub"] for line in received) == sorted({0, 1, 2, 3} - {error["sub"]})


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_slow_consumer_is_cut_off_with_a_clear_code(
    live: LiveGateway, issuer: Issuer, transport: str
) -> None:
    subscriber = live.subscribe(CHANGES, transport=transport, params=auth(issuer, A, transport))
    live.wait_for_subscribers(1)
    # Forty changes at once: more than the subscriber's queue (8) holds before it is read.
    live.publish(A, "Tag", raw("Tag"), repeat=40)
    if transport == "ws":
        closed = subscriber.wait_for(lambda line: line["event"] == "closed", timeout=15)
        assert closed["code"] == 4008
        assert closed["reason"].startswith("Slow consumer")
    else:
        last = subscriber.wait_for(
            lambda line: line["event"] == "next" and "errors" in line["payload"], timeout=15
        )
        assert last["payload"]["errors"][0]["extensions"]["code"] == "SLOW_CONSUMER"
        assert subscriber.next_line()["event"] == "complete"
    live.wait_for_subscribers(0)


def test_an_idle_connection_is_closed(live: LiveGateway, issuer: Issuer) -> None:
    subscriber = live.subscribe(CHANGES, params=auth(issuer, A, "ws"), connect_only=True)
    assert subscriber.next_line()["event"] == "connected"
    started = time.monotonic()
    closed = subscriber.wait_for(lambda line: line["event"] == "closed", timeout=10)
    assert closed["code"] == 1000 and closed["reason"].startswith("Idle")
    assert time.monotonic() - started >= IDLE_SECONDS - 0.2


def test_a_malformed_connection_init_is_closed_4400(live: LiveGateway) -> None:
    subscriber = live.subscribe(CHANGES, params={"authorization": 42})
    closed = subscriber.wait_for(lambda line: line["event"] == "closed")
    assert closed["code"] == 4400
    assert "connection_init" in closed["reason"]


def test_no_connection_init_in_time_is_closed_4408(live: LiveGateway) -> None:
    url = live.url.replace("http", "ws") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        started = time.monotonic()
        with pytest.raises(Exception) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 4408  # type: ignore[attr-defined]
    assert 0.8 <= time.monotonic() - started < 5


def test_the_protocol_is_required(live: LiveGateway) -> None:
    url = live.url.replace("http", "ws") + "/graphql"
    with pytest.raises(Exception) as refused:
        connect(url, subprotocols=["graphql-ws"])  # type: ignore[list-item]
    assert "403" in str(refused.value)


def test_the_server_pings_and_answers_pings(live: LiveGateway, issuer: Issuer) -> None:
    url = live.url.replace("http", "ws") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": auth(issuer, A, "ws")}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        ws.send(json.dumps({"type": "ping", "payload": {"n": 1}}))
        seen = [json.loads(ws.recv(timeout=5)) for _ in range(2)]
        assert {"type": "pong", "payload": {"n": 1}} in seen
        assert {"type": "ping"} in seen


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_expired_token_ends_the_subscription_unauthenticated(
    live: LiveGateway, issuer: Issuer, transport: str
) -> None:
    # Accepted for six more seconds (the gateway allows 30 s of clock skew past `exp`): time
    # for the client to start and subscribe, even on a busy machine.
    params = auth(issuer, A, transport, exp=int(time.time()) - 24)
    subscriber = live.subscribe(CHANGES, transport=transport, params=params)
    live.wait_for_subscribers(1)
    if transport == "ws":
        error = subscriber.wait_for(lambda line: line["event"] == "error", timeout=15)
        assert error["error"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    else:
        last = subscriber.wait_for(lambda line: line["event"] == "next", timeout=15)
        assert last["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert subscriber.next_line()["event"] == "complete"
    live.wait_for_subscribers(0)


def test_the_limits_of_queries_hold_for_subscriptions(live: LiveGateway, issuer: Issuer) -> None:
    deep = (
        "subscription D { changes { node { ... on Interview { application { job { "
        + ("interviews { nodes { application { job { " * 6)
        + "id"
        + " } } } }" * 6
        + " } } } } } }"
    )
    subscriber = live.subscribe(deep, params=auth(issuer, A, "ws"))
    error = subscriber.wait_for(lambda line: line["event"] == "error")
    assert error["error"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert live.subscriber_count() == 0


def test_sse_is_cors_readable_like_graphql(live: LiveGateway) -> None:
    preflight = live.http.options(
        "/graphql/stream",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ORIGIN
    refused = live.http.post(
        "/graphql/stream",
        json={"query": CHANGES},
        headers={"Origin": ORIGIN, "Accept": "text/event-stream"},
    )
    assert refused.status_code == 401  # no token: refused before the stream, as /graphql does
    assert refused.headers["access-control-allow-origin"] == ORIGIN
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_sse_sends_keepalive_comments(live: LiveGateway, issuer: Issuer) -> None:
    headers = {"Accept": "text/event-stream", **auth(issuer, A, "sse")}
    with httpx.stream(
        "GET",
        live.url + "/graphql/stream",
        params={"query": CHANGES},
        headers=headers,
        timeout=10,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        comments = 0
        for line in response.iter_lines():
            if line.startswith(":"):
                comments += 1
            if comments >= 3:  # the first at once, then one each GATEWAY_LIVE_KEEPALIVE_SECONDS
                break
    assert comments == 3


# -- shutdown ---------------------------------------------------------------------------------


def test_sigterm_closes_subscriptions_cleanly(
    sandbox_url: str, server_logs: Path, issuer: Issuer
) -> None:
    with live_gateway(
        sandbox_url,
        server_logs / "gateway-live-drain.log",
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        **issuer.gateway_env,
    ) as draining:
        ws = draining.subscribe(CHANGES, params=auth(issuer, A, "ws"))
        sse = draining.subscribe(CHANGES, transport="sse", params=auth(issuer, A, "sse"))
        draining.wait_for_subscribers(2)
        draining.process.send_signal(signal.SIGTERM)
        closed = ws.wait_for(lambda line: line["event"] in ("closed", "error"))
        if closed["event"] == "error":
            closed = {"code": closed["error"].get("code"), "reason": closed["error"].get("reason")}
        assert closed["code"] == 1001, closed
        assert sse.wait_for(lambda line: line["event"] != "connected")["event"] == "complete"
        # uvicorn re-raises the signal once it has shut down (as tests/e2e/test_lifecycle.py).
        assert draining.process.wait(timeout=15) in (0, -signal.SIGTERM)


def test_an_operation_over_a_websocket_is_logged_with_its_request_id(
    live: LiveGateway, issuer: Issuer
) -> None:
    url = live.url.replace("http", "ws") + "/graphql"
    request_id = "live-edge-request-id-0001"
    with connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"X-Request-Id": request_id},
    ) as ws:
        ws.send(json.dumps({"type": "connection_init", "payload": auth(issuer, A, "ws")}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        query = "query Tags { tags(first: 1) { nodes { id } } }"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        messages = []
        while {"id": "1", "type": "complete"} not in messages:  # keep-alive pings may come too
            messages.append(json.loads(ws.recv(timeout=5)))
        assert any(m["type"] == "next" and m["payload"]["data"]["tags"] for m in messages)
    deadline = time.monotonic() + 5
    while True:
        lines = [
            line
            for line in live.log.read_text().splitlines()
            if "graphql request" in line and "operation=Tags" in line
        ]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    (line,) = lines
    assert f"request_id={request_id}" in line
    assert "method=WEBSOCKET" in line and f"integration={A}" in line


TITLES = (
    "subscription Titles { changes(types: [INTERVIEW]) { node { ... on Interview { title } } } }"
)


@pytest.fixture(scope="module")
def roomy(sandbox_url: str, server_logs: Path, issuer: Issuer) -> Iterator[LiveGateway]:
    """A gateway whose subscribers' queues never overflow here (100,000 changes each): a client
    that stops reading is caught by the send timeout, two keep-alive periods (1 s)."""
    with live_gateway(
        sandbox_url,
        server_logs / "gateway-live-roomy.log",
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_LIVE_KEEPALIVE_SECONDS="0.5",
        TEST_LIVE_QUEUE_SIZE="100000",
        **issuer.gateway_env,
    ) as running:
        yield running


def _flood_until_dropped(live: LiveGateway) -> None:
    """Publish large changes until the feed has no subscriber left (its connection dropped)."""
    record = raw("Interview")
    record["title"] = "x" * 2_000_000
    deadline = time.monotonic() + 30
    while live.subscriber_count():
        assert time.monotonic() < deadline, "the client that reads nothing was never dropped"
        live.publish(A, "Interview", record, repeat=4)


def _client_frame(text: str) -> bytes:
    """One masked text frame, as a client sends it (RFC 6455 5.2)."""
    payload, mask = text.encode(), os.urandom(4)
    size = len(payload)
    head = bytes([0x81]) + (
        bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    )
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_websocket_client_that_reads_nothing_is_dropped(
    roomy: LiveGateway, issuer: Issuer
) -> None:
    live = roomy
    host, port = "127.0.0.1", int(live.url.rsplit(":", 1)[1])
    # A raw socket with a small receive buffer that, once upgraded, is never read again.
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65_536)
        sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            ).encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 101")
        init = {"type": "connection_init", "payload": auth(issuer, A, "ws")}
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": TITLES}}
        sock.sendall(_client_frame(json.dumps(init)) + _client_frame(json.dumps(subscribe)))
        live.wait_for_subscribers(1)
        _flood_until_dropped(live)
    assert "dropping a WebSocket whose client reads nothing" in live.log.read_text()


def test_an_event_stream_client_that_reads_nothing_is_dropped(
    roomy: LiveGateway, issuer: Issuer
) -> None:
    live = roomy
    headers = {"Accept": "text/event-stream", **auth(issuer, A, "sse")}
    with httpx.stream(
        "POST", live.url + "/graphql/stream", json={"query": TITLES}, headers=headers, timeout=30
    ) as response:
        assert response.status_code == 200  # and nothing of the body is ever read
        live.wait_for_subscribers(1)
        _flood_until_dropped(live)
    assert "ending an event stream whose client reads nothing" in live.log.read_text()
