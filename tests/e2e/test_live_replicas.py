"""Live changes across replicas, every part real (issue 13's multi-replica tests): two gateway
processes (``serve``) sharing one ``redis-server``, the sandbox process as the upstream sending
its signed ``data-changed`` webhooks to one of them, and npm's ``graphql-ws`` and ``graphql-sse``
clients subscribed to both. Also polling alone (no webhook at all) and a forged webhook.

Nothing here sleeps to synchronise: each step waits, with a deadline, on what says it happened
(``kombo_gateway_live_subscribers``, Redis's ``PUBSUB NUMSUB``, a lease holder's log line, the
clients' lines, the refresh counters). "Exactly once" is checked with a sentinel: each
subscriber's results are read in order, and a repeat of any earlier change would come before
the next expected one (one lease holder refreshes at a time; pub/sub keeps order).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.live import metric_value
from bench.servers import spawn
from gateway.live.feed import refresh_key
from gateway.live.redis import RedisCoordinator, live_secret
from gateway.sandbox.data import INTEGRATIONS
from gateway.sandbox.webhooks import data_changed_body, signature
from gateway.schema.ids import global_id
from tests.support.live_clients import Subscriber
from tests.support.redis_server import RedisServer
from tests.support.secret_scanning import API_KEY
from tests.support.servers import Server, free_port, gateway_env, stop, wait_until_ready

A = INTEGRATIONS[0]
"""The integration every caller reads (``GATEWAY_AUTH=none``: the gateway's default one)."""
WEBHOOK_SECRET = "whsec_live-replicas-test-secret-0123456789"
DELIVERY_SECONDS = 1.0
"""A change reaches every subscriber, on every replica, within this long of its webhook."""
LEASE_SECONDS = 2.0
"""The handover test's ``GATEWAY_LIVE_LEASE_SECONDS``: a dead holder's lease expires this long
after its last renewal, and a survivor takes it at its next try (a third of it later at most)."""
TOOK_LEASE = "live refresher of Interview took the lease"
"""The holder's log line, written just before it starts acting as the holder."""

INTERVIEWS = """subscription Interviews {
  changes(types: [INTERVIEW]) { type deleted changedAt node { id ... on Interview { title } } }
}"""


def wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true after {timeout} s: {what}"
        time.sleep(0.02)


@dataclass
class Gateway:
    """One ``serve`` process of the stack."""

    name: str
    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    def metric(self, name: str, **labels: str) -> float:
        """The sum of ``name``'s samples whose labels include ``labels`` (0 when none)."""
        return metric_value(httpx.get(self.url + "/metrics", timeout=5).text, name, **labels)

    def subscribers(self) -> int:
        return int(self.metric("kombo_gateway_live_subscribers"))

    def refreshes(self, trigger: str | None = None) -> int:
        labels = {"outcome": "ok"} | ({"trigger": trigger} if trigger else {})
        return int(self.metric("kombo_gateway_live_refreshes_total", **labels))

    def took_lease(self) -> int:
        """How many times this process took the Interview lease (its log's lines)."""
        return self.server.log.read_text(errors="replace").count(TOOK_LEASE)

    def subscribe(self, transport: str) -> Subscriber:
        args = ["--transport", transport, "--url", self.url, "--query", INTERVIEWS]
        return Subscriber([*args, "--params", "{}"])

    def post_webhook(self, body: bytes, signature_header: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if signature_header is not None:
            headers["X-Kombo-Signature"] = signature_header
        return httpx.post(self.url + "/webhooks/kombo", content=body, headers=headers, timeout=5)


@dataclass
class Stack:
    sandbox: httpx.Client
    gateways: list[Gateway]
    redis: RedisServer | None
    names: RedisCoordinator | None
    """Only to compute the Redis names the gateways use (never started)."""

    def change(self, *, webhook: bool = True) -> dict[str, Any]:
        """Edit one interview of ``A`` upstream; its webhook has been answered when this returns."""
        response = self.sandbox.post(
            "/__sandbox/changes", json={"integration_id": A, "model": "Interview"}
        )
        assert response.status_code == 201, response.text
        edit = dict(response.json())
        assert edit["webhook"] == ({"status": 200} if webhook else None), edit
        return edit

    def upstream_requests(self) -> list[dict[str, Any]]:
        return list(self.sandbox.get("/__sandbox/requests").json()["requests"])

    def listening(self, count: int) -> None:
        """Until ``count`` replicas listen on ``A``'s channel (their Redis subscriptions are
        made in the background after the first subscriber)."""
        assert self.redis is not None and self.names is not None
        client, channel = self.redis.client(), self.names.channel(A)

        def listeners() -> int:
            return int(client.pubsub_numsub(channel)[0][1])

        wait(lambda: listeners() == count, 10, f"{count} replicas on the channel")

    def holder(self, took_before: Sequence[int]) -> Gateway:
        """The one gateway that took the Interview lease since ``took_before`` (its counts)."""

        def new_holders() -> list[Gateway]:
            return [
                g for g, n in zip(self.gateways, took_before, strict=True) if g.took_lease() > n
            ]

        wait(lambda: new_holders(), 10, "a lease holder")
        (holder,) = new_holders()
        if self.redis is not None:
            assert self.lease_held(), "the lease is not in Redis"
        return holder

    def lease_held(self) -> bool:
        """Whether the Interview lease of ``A`` is in Redis (held, or not yet expired)."""
        assert self.redis is not None and self.names is not None
        return bool(self.redis.client().exists(self.names.lease_key(refresh_key(A, "Interview"))))


@contextmanager
def stack(
    server_logs: Path,
    name: str,
    *,
    redis: RedisServer | None,
    replicas: int = 2,
    webhook_to: int | None = 0,
    **extra: str,
) -> Iterator[Stack]:
    """The sandbox (its webhooks signed, to gateway ``webhook_to``; none when ``None``) and
    ``replicas`` gateways (on ``redis`` when given)."""
    sandbox_port = free_port()
    ports = [free_port() for _ in range(replicas)]
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--api-key", API_KEY]
    if webhook_to is not None:
        sandbox_args += ["--webhook-url", f"http://127.0.0.1:{ports[webhook_to]}/webhooks/kombo"]
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    env = {
        "KOMBO_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GATEWAY_LIVE_MIN_REFRESH_SECONDS": "0",
        **({"GATEWAY_REDIS_URL": redis.url} if redis is not None else {}),
        **extra,
    }
    with ExitStack() as running:
        # Every process started at once, then each waited for (stopped in reverse, SIGTERM).
        log = server_logs / f"sandbox-{name}.log"
        sandbox_env = {"SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET}
        starting = [(spawn(["gateway", *sandbox_args], sandbox_env, log), log, "/healthz")]
        running.callback(stop, starting[0][0])
        gateways = []
        for index, port in enumerate(ports, start=1):
            log = server_logs / f"gateway-{name}-{index}.log"
            process = spawn(["gateway", "serve"], gateway_env(sandbox_url, port, **env), log)
            running.callback(stop, process)
            server = Server(f"gateway {index}", process, f"http://127.0.0.1:{port}", log)
            gateways.append(Gateway(server.name, server))
            starting.append((process, log, "/readyz"))
        urls = [sandbox_url] + [g.url for g in gateways]
        for (process, log, ready), url in zip(starting, urls, strict=True):
            wait_until_ready(process, url + ready, log)
        sandbox = running.enter_context(httpx.Client(base_url=sandbox_url, timeout=10))
        names = None
        if redis is not None:
            names = RedisCoordinator(redis.url, live_secret(sandbox_url + "/v1", API_KEY))
        yield Stack(sandbox, gateways, redis, names)


@pytest.fixture(scope="module")
def replicas(server_logs: Path, redis_server: RedisServer) -> Iterator[Stack]:
    """Two gateways on one Redis; the sandbox's webhooks go to the first only."""
    with stack(server_logs, "replicas", redis=redis_server) as running:
        yield running


def counts(gateway: Gateway, subscribers: int) -> Callable[[], bool]:
    return lambda: gateway.subscribers() == subscribers


@contextmanager
def subscribers(*pairs: tuple[Gateway, str]) -> Iterator[list[Subscriber]]:
    """One client per (gateway, transport); each gateway waited on until it counts its own."""
    started: list[Subscriber] = []
    try:
        for gateway, transport in pairs:
            before = gateway.subscribers()
            started.append(gateway.subscribe(transport))
            wait(counts(gateway, before + 1), 10, f"{gateway.name} counting its subscriber")
        yield started
    finally:
        for subscriber in started:
            subscriber.close()
    for gateway in {id(g): g for g, _ in pairs}.values():
        if gateway.server.process.poll() is None:
            wait(counts(gateway, 0), 10, f"{gateway.name} without subscribers")


def expect(subscriber: Subscriber, edit: dict[str, Any], timeout: float = 5) -> None:
    """The subscriber's next result is ``edit``'s record, as edited (and nothing before it)."""
    change = subscriber.next_result(timeout=timeout)["data"]["changes"]
    got = (change["node"]["id"], change["changedAt"], change["deleted"])
    assert got == (global_id("Interview", edit["id"]), edit["changed_at"], False), change


def test_a_webhook_to_one_replica_reaches_the_subscribers_of_both_once(replicas: Stack) -> None:
    first, second = replicas.gateways
    took = [g.took_lease() for g in replicas.gateways]
    pairs = [(first, "ws"), (first, "sse"), (second, "sse"), (second, "ws")]
    with subscribers(*pairs) as clients:
        replicas.listening(2)
        holder = replicas.holder(took)
        refreshes = [g.refreshes() for g in replicas.gateways]
        edits = []
        for _ in range(3):
            sent = time.monotonic()
            edit = replicas.change()  # its webhook goes to the first gateway only
            for client in clients:
                expect(client, edit)
            assert time.monotonic() - sent < DELIVERY_SECONDS
            edits.append(edit)
            # The same news from another sender, to the other replica: a fresh event id, a
            # second refresh; it re-reads nothing a subscriber has not had (next loop's check).
            body = data_changed_body(A, ["Interview"])
            answer = second.post_webhook(body, signature(WEBHOOK_SECRET, body))
            assert answer.json() == {"status": "accepted"}
        # The sentinel: a last change, and before it nothing (no repeat of the three above).
        sentinel = replicas.change()
        for client in clients:
            expect(client, sentinel)
        # One refresher cluster-wide: every refresh was the holder's (up to two a round: the
        # second webhook folds into the first's refresh when it comes while that one runs).
        assert holder.refreshes() - refreshes[replicas.gateways.index(holder)] >= 4
        other = second if holder is first else first
        assert other.refreshes() == refreshes[replicas.gateways.index(other)]
        for gateway in replicas.gateways:
            assert gateway.metric("kombo_gateway_live_deliveries_total") >= 2 * len(edits) + 2


def test_the_lease_is_handed_over_when_its_holder_is_killed(
    server_logs: Path, redis_server: RedisServer
) -> None:
    with stack(
        server_logs,
        "handover",
        redis=redis_server,
        GATEWAY_LIVE_LEASE_SECONDS=str(LEASE_SECONDS),
    ) as running:
        survivor, doomed = running.gateways  # the sandbox's webhooks go to the survivor
        # The second gateway subscribes first and takes the lease; then the first subscribes.
        with subscribers((doomed, "sse")) as (on_doomed,):
            assert running.holder([0, 0]) is doomed
            with subscribers((survivor, "ws")) as (mine,):
                running.listening(2)
                handover(running, survivor, doomed, mine, on_doomed)


def handover(
    running: Stack, survivor: Gateway, doomed: Gateway, mine: Subscriber, on_doomed: Subscriber
) -> None:
    """The holder (``doomed``) dies; a change whose webhook reaches the survivor while the dead
    lease still stands arrives once the survivor takes the lease over, and later ones at once."""
    first = running.change()
    expect(mine, first)
    expect(on_doomed, first)
    wait(lambda: doomed.refreshes("webhook") == 1, 5, "the holder's refresh")
    assert survivor.refreshes() == 0

    doomed.server.process.kill()  # SIGKILL: the lease is not given back
    doomed.server.process.wait()
    killed = time.monotonic()
    second = running.change()
    assert running.lease_held(), "the dead replica's lease expired before the change's webhook"
    expect(mine, second, timeout=LEASE_SECONDS * 4 / 3 + 5)
    took_over = time.monotonic() - killed
    assert survivor.took_lease() == 1
    assert took_over < LEASE_SECONDS * 4 / 3 + DELIVERY_SECONDS, took_over

    sent = time.monotonic()
    third = running.change()
    expect(mine, third)  # and nothing of the first two again before it
    assert time.monotonic() - sent < DELIVERY_SECONDS
    assert survivor.refreshes("poll") == 0


def test_polling_alone_delivers_changes(server_logs: Path) -> None:
    with stack(
        server_logs,
        "polling",
        redis=None,
        replicas=1,
        webhook_to=None,
        GATEWAY_LIVE_POLL_SECONDS="1",
    ) as running:
        (gateway,) = running.gateways
        with subscribers((gateway, "ws")) as (client,):
            sent = time.monotonic()
            edit = running.change(webhook=False)  # the sandbox has nowhere to send one
            expect(client, edit)
            assert time.monotonic() - sent < 3.5  # a few poll periods
            assert gateway.refreshes("poll") >= 1
            assert gateway.refreshes("webhook") == 0
            assert gateway.metric("kombo_gateway_live_webhooks_total") == 0
        changes = running.sandbox.get("/__sandbox/changes").json()["changes"]
        assert [c["id"] for c in changes] == [edit["id"]]
        requests = running.upstream_requests()
        assert requests, "no refresh reached the sandbox"
        for request in requests:
            assert request["path"] == "/v1/ats/interviews", request
            assert request["params"]["include_deleted"] == "true", request
            assert "updated_after" in request["params"], request


def test_a_forged_webhook_is_refused_and_costs_no_upstream_call(replicas: Stack) -> None:
    first, second = replicas.gateways
    took = [g.took_lease() for g in replicas.gateways]
    with subscribers((first, "ws"), (second, "sse")) as clients:
        replicas.listening(2)
        holder = replicas.holder(took)
        refreshes = sum(g.refreshes() for g in replicas.gateways)
        refused = [
            g.metric("kombo_gateway_live_webhooks_total", outcome="unauthorized")
            for g in replicas.gateways
        ]
        replicas.sandbox.delete("/__sandbox/requests")

        body = data_changed_body(A, ["Interview"])
        other = data_changed_body(A, ["Interview", "Application"])
        forgeries: list[tuple[bytes, str | None]] = [
            (body, signature("whsec_not-the-secret", body)),  # another secret
            (body, None),  # unsigned
            (body, signature(WEBHOOK_SECRET, other)),  # a genuine signature of another body
            (body, "sha256=" + "0" * 64),
        ]
        for gateway in replicas.gateways:
            for forged, signed in forgeries:
                answer = gateway.post_webhook(forged, signed)
                assert answer.status_code == 401, answer.text
                assert answer.json()["error"]["code"] == "UNAUTHENTICATED"
        for gateway, before in zip(replicas.gateways, refused, strict=True):
            after = gateway.metric("kombo_gateway_live_webhooks_total", outcome="unauthorized")
            assert after - before == len(forgeries)

        # The sentinel: a genuine change. It is the first thing each subscriber gets, and its
        # refresh the only upstream call since the forgeries.
        edit = replicas.change()
        for client in clients:
            expect(client, edit)
        wait(
            lambda: sum(g.refreshes() for g in replicas.gateways) == refreshes + 1,
            5,
            "the genuine webhook's refresh",
        )
        requests = replicas.upstream_requests()
        assert len(requests) == 1, json.dumps(requests, indent=1)
        assert requests[0]["path"] == "/v1/ats/interviews"
        assert holder.refreshes("webhook") >= 1
