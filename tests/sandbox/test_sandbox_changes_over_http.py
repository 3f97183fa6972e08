"""Edits over real HTTP: a sandbox process (``python -m gateway sandbox --webhook-url …``) edits a
record on ``POST /__sandbox/changes`` or on its timer, its list endpoints then answer the change
to ``updated_after`` with ``include_deleted=true``, and each edit is announced by a signed
``data-changed`` webhook, as Kombo sends them (the spec's ``webhooks`` section)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app, sandbox_webhooks
from gateway.config import Settings
from gateway.sandbox.edits import kombo_instant
from tests.sandbox.sandbox_calls import API_KEY, DEFAULT_INTEGRATION, HEADERS, INTERVIEWS
from tests.support.servers import free_port, run_server
from tests.support.webhook_receiver import Received, WebhookReceiver, webhook_receiver

SECRET = "whsec-sandbox-test"
APPLICATIONS = "/v1/ats/applications"


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as server:
        yield server


@contextmanager
def sandbox_process(
    receiver: WebhookReceiver | None, log: Path, *extra: str
) -> Iterator[httpx.Client]:
    port = free_port()
    args = ["sandbox", "--port", str(port), "--api-key", API_KEY, *extra]
    if receiver is not None:
        args += ["--webhook-url", receiver.url + "/webhooks/kombo"]
    with (
        run_server(args, {"SANDBOX_WEBHOOK_SECRET": SECRET}, "/healthz", port, log) as url,
        httpx.Client(base_url=url, headers=HEADERS, timeout=10) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def sandbox(receiver: WebhookReceiver, server_logs: Path) -> Iterator[httpx.Client]:
    """A sandbox process that posts its webhooks to :func:`receiver`, signed with SECRET."""
    with sandbox_process(receiver, server_logs / "sandbox-webhooks.log") as client:
        yield client


def change(sandbox: httpx.Client, **asked: Any) -> dict[str, Any]:
    response = sandbox.post(
        "/__sandbox/changes", json={"integration_id": DEFAULT_INTEGRATION, **asked}
    )
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def changed_since(
    sandbox: httpx.Client, path: str, since: str, **params: str
) -> list[dict[str, Any]]:
    response = sandbox.get(
        path, params={"updated_after": since, "include_deleted": "true", **params}
    )
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["data"]["results"]
    return results


def now() -> str:
    """An instant after every edit made before the call, and before every edit made after it.

    The sandbox stamps an edit to the millisecond and ``updated_after`` is strict, so "now" as
    such would miss an edit made within the same millisecond: wait for the clock to enter the
    next millisecond (at most one) and answer the one before it."""
    moment = datetime.now(UTC)
    start = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    while datetime.now(UTC) < start + timedelta(milliseconds=1):
        pass
    return kombo_instant(start)


def verified(received: Received) -> dict[str, Any]:
    """The webhook's body, once its X-Kombo-Signature checks out with SECRET."""
    expected = hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-kombo-signature"], expected)
    assert received.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(received.body)
    return body


def test_a_change_shows_up_in_updated_after_listings(sandbox: httpx.Client) -> None:
    since = now()
    assert changed_since(sandbox, INTERVIEWS, since) == []
    made = change(sandbox, model="Interview")

    (interview,) = changed_since(sandbox, INTERVIEWS, since)
    assert interview["id"] == made["id"]
    assert interview["changed_at"] == made["changed_at"] > since
    assert interview["remote_deleted_at"] is None
    assert made["what"] in ("retitled", "rescheduled")
    # The interview is a Linked Record of its application: that one is found too.
    application_ids = [a["id"] for a in changed_since(sandbox, APPLICATIONS, since)]
    assert application_ids == ([interview["application"]["id"]] if interview["application"] else [])
    assert changed_since(sandbox, INTERVIEWS, made["changed_at"]) == []


def test_a_chosen_record_is_changed_and_a_deletion_sets_remote_deleted_at(
    sandbox: httpx.Client,
) -> None:
    live = sandbox.get(INTERVIEWS, params={"page_size": "1"}).json()["data"]["results"][0]
    since = now()
    made = change(sandbox, model="Interview", id=live["id"], delete=True)
    assert (made["id"], made["deleted"], made["what"]) == (live["id"], True, "deleted")

    (deleted,) = changed_since(sandbox, INTERVIEWS, since)
    assert deleted["id"] == live["id"]
    assert deleted["remote_deleted_at"] == deleted["changed_at"] == made["changed_at"]
    hidden = sandbox.get(INTERVIEWS, params={"updated_after": since, "ids": live["id"]})
    assert hidden.json()["data"]["results"] == []  # without include_deleted=true


def test_each_change_posts_a_signed_data_changed_webhook(
    sandbox: httpx.Client, receiver: WebhookReceiver
) -> None:
    before = len(receiver.snapshot())
    made = change(sandbox, model="Candidate")
    assert made["webhook"] == {"status": 200}  # posted before the answer
    received = receiver.wait_for(before + 1)[before]

    assert received.path == "/webhooks/kombo"
    body = verified(received)
    assert set(body) == {"id", "type", "data"}
    assert isinstance(body["id"], str) and len(body["id"]) == 24
    assert body["type"] == "data-changed"
    assert body["data"] == {
        "integration_id": DEFAULT_INTEGRATION,
        "integration_tool": "sandbox",
        "integration_category": "ATS",
        "changed_models": [{"name": "ats_candidates"}],
    }
    change(sandbox, model="ApplicationStage")
    latest = verified(receiver.wait_for(before + 2)[before + 1])
    assert latest["data"]["changed_models"] == [{"name": "ats_application_stages"}]
    assert latest["id"] != body["id"]


@pytest.mark.parametrize(
    "asked",
    [
        {"model": "Interview"},
        {"integration_id": DEFAULT_INTEGRATION},
        {"integration_id": DEFAULT_INTEGRATION, "model": "Interview", "delete": "yes"},
        {"integration_id": DEFAULT_INTEGRATION, "model": "Interview", "id": 7},
        {"integration_id": DEFAULT_INTEGRATION, "model": "Job", "delete": True},
        {"integration_id": "nowhere:none", "model": "Interview"},
        [1, 2],
    ],
)
def test_a_change_the_sandbox_cannot_make_is_a_400_and_no_webhook(
    sandbox: httpx.Client, receiver: WebhookReceiver, asked: object
) -> None:
    before = len(receiver.snapshot())
    response = sandbox.post("/__sandbox/changes", json=asked)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("invalid change: ")
    assert len(receiver.snapshot()) == before


def test_without_a_webhook_url_changes_are_made_and_nothing_is_sent(
    server_logs: Path,
) -> None:
    with sandbox_process(None, server_logs / "sandbox-quiet.log") as quiet:
        since = now()
        made = change(quiet, model="Application")
        assert made["webhook"] is None
        assert [a["id"] for a in changed_since(quiet, APPLICATIONS, since)][:1] == [made["id"]]
        assert quiet.get("/__sandbox/changes").json()["changes"] == [
            {k: v for k, v in made.items() if k != "webhook"}
        ]


def test_the_timer_edits_records_and_sends_a_webhook_each_time(server_logs: Path) -> None:
    with webhook_receiver() as timer_receiver:
        log = server_logs / "sandbox-timer.log"
        with sandbox_process(timer_receiver, log, "--change-every", "0.1") as timed:
            since = now()
            webhooks = [verified(r) for r in timer_receiver.wait_for(3)]
            edits = timed.get("/__sandbox/changes").json()["changes"]
            assert edits, "webhooks without edits"
            for body in webhooks:
                assert body["type"] == "data-changed"
                assert body["data"]["integration_id"] == DEFAULT_INTEGRATION
                names = {m["name"] for m in body["data"]["changed_models"]}
                assert names and names <= {"ats_interviews", "ats_applications", "ats_candidates"}
            later = [e for e in edits if e["changed_at"] > since and e["model"] == "Interview"]
            found = {i["id"] for i in changed_since(timed, INTERVIEWS, since)}
            assert {e["id"] for e in later} <= found


@pytest.mark.anyio
async def test_a_gateway_with_sandbox_change_every_sends_itself_webhooks() -> None:
    """``make run``'s wiring: the embedded sandbox's timer runs in the gateway's lifespan and
    posts to ``http://HOST:PORT/webhooks/kombo``, the gateway's own address (here a receiver
    listening on that port stands in for it)."""
    with webhook_receiver() as stand_in:
        port = stand_in.url.rsplit(":", 1)[1]
        settings = Settings.from_env(
            {"KOMBO_API_KEY": "", "PORT": port, "SANDBOX_CHANGE_EVERY": "0.05"}
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            received = await stand_in.until(2)
        assert {r.path for r in received} == {"/webhooks/kombo"}
        assert json.loads(received[0].body)["type"] == "data-changed"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123/webhooks/kombo"),
        ("0.0.0.0", "http://127.0.0.1:8123/webhooks/kombo"),
        ("::", "http://[::1]:8123/webhooks/kombo"),
        ("::1", "http://[::1]:8123/webhooks/kombo"),
    ],
)
def test_the_embedded_sandbox_posts_to_the_gateways_own_address(host: str, url: str) -> None:
    env = {"KOMBO_API_KEY": "", "HOST": host, "PORT": "8123", "SANDBOX_CHANGE_EVERY": "5"}
    target = sandbox_webhooks(Settings.from_env(env))
    assert target is not None and target.url == url
    assert sandbox_webhooks(Settings.from_env({"KOMBO_API_KEY": "", "PORT": "8123"})) is None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
