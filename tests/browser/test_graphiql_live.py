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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Page, expect

from gateway.schema.ids import global_id
from tests.browser.test_graphiql import (
    README_SUBSCRIPTION,
    _assert_clean,
    _editor_text,
    _open_graphiql,
)
from tests.support.servers import DEFAULT_INTEGRATION
from tests.support.webhooked_stack import WebhookedStack, webhooked_stack

if TYPE_CHECKING:
    from tests.support.offline_browser import OfflinePage

WEBHOOK_SECRET = "whsec_browser-live-test-secret-0123456789"


class LiveStack(WebhookedStack):
    """The whole stack; its changes are interviews of the default integration."""

    def change_an_interview(self, avoid: str | None = None) -> dict[str, Any]:
        """Edit one interview of the default integration (not ``avoid``); the gateway has
        answered the webhook when this returns."""
        for _ in range(20):
            edit = self.change(DEFAULT_INTEGRATION, "Interview")
            if edit["id"] != avoid:
                return edit
        raise AssertionError(f"the sandbox kept editing {avoid}")


@pytest.fixture(scope="module")
def live_stack(server_logs: Path) -> Iterator[LiveStack]:
    with webhooked_stack(
        server_logs, "browser-live", WEBHOOK_SECRET, GATEWAY_LIVE_MIN_REFRESH_SECONDS="0"
    ) as running:
        yield LiveStack(running.gateway, running.sandbox)


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
