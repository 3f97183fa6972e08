"""Live changes end to end, every part real (issue 13's first test): the sandbox process edits a
record (``POST /__sandbox/changes``) and sends its signed ``data-changed`` webhook to the gateway
process (``serve``, ``GATEWAY_AUTH=jwt``, ``KOMBO_WEBHOOK_SECRET``), whose feed refreshes
(``updated_after`` + ``include_deleted``) and delivers to npm's ``graphql-ws`` and ``graphql-sse``
clients. Nothing is injected: what a subscriber receives came from the upstream.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.sandbox.data import INTEGRATIONS
from gateway.schema.ids import global_id
from tests.support.live_clients import Subscriber
from tests.support.record_truth import visible
from tests.support.tenancy_tokens import AUDIENCE, ISSUER, Issuer, make_issuer
from tests.support.webhooked_stack import WebhookedStack, webhooked_stack

A, B = INTEGRATIONS[0], INTEGRATIONS[1]
RICH_INTERVIEWS = [
    p["id"]
    for p in visible(A, "Interview")
    if p.get("stage_id") and (p.get("application") or {}).get("job")
]
WEBHOOK_SECRET = "whsec_live-full-stack-test-secret-0123456789"
DELIVERY_SECONDS = 1.0
"""A change reaches its subscribers within this long of its webhook (issue 13)."""

INTERVIEWS = """subscription Interviews {
  changes(types: [INTERVIEW]) {
    type deleted changedAt
    node {
      id
      ... on Interview { title stageId stage { komboId name } application { job { name status } } }
    }
  }
}"""


class Stack(WebhookedStack):
    """The whole stack, with the token issuer the gateway trusts."""

    def __init__(self, stack: WebhookedStack, issuer: Issuer) -> None:
        super().__init__(stack.gateway, stack.sandbox)
        self.issuer = issuer

    def subscribe(self, integration: str, transport: str) -> Subscriber:
        token = self.issuer.token(integration)
        params = json.dumps({"Authorization": f"Bearer {token}"})
        return Subscriber(
            [
                "--transport",
                transport,
                "--url",
                self.gateway,
                "--query",
                INTERVIEWS,
                "--params",
                params,
            ]
        )


@pytest.fixture(scope="module")
def stack(server_logs: Path) -> Iterator[Stack]:
    issuer = make_issuer("HS256")
    with webhooked_stack(
        server_logs,
        "live-full-stack",
        WEBHOOK_SECRET,
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        **issuer.gateway_env,
    ) as running:
        yield Stack(running, issuer)


@pytest.mark.parametrize("transport", ["ws", "sse"])
def test_a_sandbox_change_reaches_its_subscribers_within_a_second_of_its_webhook(
    stack: Stack, transport: str
) -> None:
    mine, other = stack.subscribe(A, transport), stack.subscribe(B, transport)
    try:
        stack.wait_for_subscribers(2)
        # An interview with a stage and a job to resolve (the data also has ones without);
        # each transport edits and deletes its own.
        edited, deleted = RICH_INTERVIEWS[0:2] if transport == "ws" else RICH_INTERVIEWS[2:4]
        edit = stack.change(A, "Interview", id=edited)
        sent = time.monotonic()
        change = mine.next_result(timeout=5)["data"]["changes"]
        assert time.monotonic() - sent < DELIVERY_SECONDS
        assert change["node"]["id"] == global_id("Interview", edit["id"])
        assert change["changedAt"] == edit["changed_at"] and change["deleted"] is False
        node = change["node"]
        # Nested fields resolved: the stage looked up, the job completed (status is not inlined).
        # (a stage's name may be null in the data; the looked-up stage is the one named)
        assert node["stage"]["komboId"] == node["stageId"]
        assert "status" in node["application"]["job"]

        # A deletion; and the other tenant's first change is its own (none of A's came before).
        edit = stack.change(A, "Interview", id=deleted, delete=True)
        change = mine.next_result(timeout=5)["data"]["changes"]
        assert change["deleted"] is True
        assert change["node"]["id"] == global_id("Interview", edit["id"])
        theirs = stack.change(B, "Interview")
        change = other.next_result(timeout=5)["data"]["changes"]
        assert change["node"]["id"] == global_id("Interview", theirs["id"])
    finally:
        mine.close()
        other.close()
    stack.wait_for_subscribers(0)
