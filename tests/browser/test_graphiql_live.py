"""GraphiQL shows live changes from the real gateway: nothing faked between the page and the
upstream (issue 13's browser test).

A sandbox process (``python -m gateway sandbox --webhook-url …``, signing with a secret) and a
gateway (``serve``, ``KOMBO_WEBHOOK_SECRET``); Chromium opens GraphiQL at ``/graphql``, the
README "Live changes" subscription is pasted into the editor and run over GraphiQL's own
WebSocket. Each change is made through the sandbox's control route, which answers once the
gateway has taken its signed webhook: the gateway refreshes from the sandbox and the page shows
the edited interview, then the next one in its place.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from gateway.schema.ids import global_id
from tests.browser.test_graphiql import (
    README_SUBSCRIPTION,
    _assert_clean,
    _editor_text,
    _open_graphiql,
)
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, free_port, gateway_env, run_server

if TYPE_CHECKING:
    from tests.support.offline_browser import OfflinePage

WEBHOOK_SECRET = "whsec_browser-live-test-secret-0123456789"


class LiveStack:
    """The gateway's URL and the sandbox's controls."""

    def __init__(self, gateway: str, sandbox: httpx.Client) -> None:
        self.gateway = gateway
        self.sandbox = sandbox

    def subscribers(self) -> int:
        text = httpx.get(self.gateway + "/metrics", timeout=5).text
        match = re.search(r"^kombo_gateway_live_subscribers(?:\{[^}]*\})? (\S+)$", text, re.M)
        return int(float(match.group(1))) if match else 0

    def wait_for_subscribers(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (seen := self.subscribers()) != count:
            assert time.monotonic() < deadline, f"{seen} live subscribers, not {count}"
            time.sleep(0.05)

    def change_an_interview(self, avoid: str | None = None) -> dict[str, Any]:
        """Edit one interview of the default integration (not ``avoid``); the gateway has
        answered the webhook when this returns."""
        for _ in range(20):
            response = self.sandbox.post(
                "/__sandbox/changes",
                json={"integration_id": DEFAULT_INTEGRATION, "model": "Interview"},
            )
            assert response.status_code == 201, response.text
            edit = dict(response.json())
            assert edit["webhook"] == {"status": 200}, edit
            if edit["id"] != avoid:
                return edit
        raise AssertionError(f"the sandbox kept editing {avoid}")


@pytest.fixture(scope="module")
def live_stack(server_logs: Path) -> Iterator[LiveStack]:
    sandbox_port, gateway_port = free_port(), free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--api-key", API_KEY,
                    "--webhook-url", gateway + "/webhooks/kombo"]  # fmt: skip
    env = gateway_env(
        f"http://127.0.0.1:{sandbox_port}",
        gateway_port,
        KOMBO_WEBHOOK_SECRET=WEBHOOK_SECRET,
        GATEWAY_LIVE_MIN_REFRESH_SECONDS="0",
    )
    with (
        run_server(
            sandbox_args,
            {"SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET},
            "/healthz",
            sandbox_port,
            server_logs / "sandbox-browser-live.log",
        ) as sandbox_url,
        run_server(
            ["serve"], env, "/readyz", gateway_port, server_logs / "gateway-browser-live.log"
        ),
        httpx.Client(base_url=sandbox_url, timeout=10) as sandbox,
    ):
        yield LiveStack(gateway, sandbox)


def _shown_change(page: Page) -> dict[str, Any]:
    shown = json.loads(_editor_text(page, ".result-window"))
    assert "errors" not in shown, shown
    return dict(shown["data"]["changes"])


@pytest.mark.browser
def test_graphiql_shows_live_changes_from_the_real_gateway(
    live_stack: LiveStack, offline_page: OfflinePage
) -> None:
    assert README_SUBSCRIPTION is not None, 'README "Live changes" lost its ```graphql live'
    subscription = README_SUBSCRIPTION.group(1)
    page = _open_graphiql(offline_page, live_stack.gateway)

    # Pasted (as a person would: select all, paste), then run with the ▶ button.
    page.locator(".graphiql-query-editor .CodeMirror").first.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(subscription)
    assert _editor_text(page, ".graphiql-query-editor") == subscription
    # GraphiQL takes in an edit (operation name, storage) after a debounce: run once it has.
    page.wait_for_function(
        "text => localStorage.getItem('graphiql:query') === text", arg=subscription
    )
    page.locator(".graphiql-execute-button").click()
    live_stack.wait_for_subscribers(1)

    result = page.locator(".result-window")
    first = live_stack.change_an_interview()
    expect(result).to_contain_text(first["changed_at"], timeout=10_000)
    expect(result).to_contain_text('"type": "INTERVIEW"')
    change = _shown_change(page)
    assert change["node"]["id"] == global_id("Interview", first["id"])
    assert change["changedAt"] == first["changed_at"]
    assert change["deleted"] is False
    assert {"title", "startingAt", "application"} <= set(change["node"])

    # The next change replaces it in the result pane.
    second = live_stack.change_an_interview(avoid=first["id"])
    expect(result).to_contain_text(second["changed_at"], timeout=10_000)
    expect(result).not_to_contain_text(first["changed_at"])
    change = _shown_change(page)
    assert change["node"]["id"] == global_id("Interview", second["id"])
    assert change["type"] == "INTERVIEW"

    # ■ stops it: the gateway's subscription ends.
    page.locator(".graphiql-execute-button").click()
    live_stack.wait_for_subscribers(0)
    _assert_clean(offline_page)
