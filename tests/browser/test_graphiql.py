"""GraphiQL at GET /graphql works in a real browser with no internet, under the gateway's CSP.

The README promises one command that opens GraphiQL on the embedded sandbox; these tests open it
the way a person would, in headless Chromium that may reach only this machine.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Page, Request, WebSocketRoute, expect

from gateway.graphiql import render_page
from gateway.sandbox import records_for
from gateway.sandbox.data import INTEGRATIONS
from tests.support.graphiql_csp import assert_strict_csp
from tests.support.servers import ROOT

if TYPE_CHECKING:
    from tests.support.offline_browser import OfflinePage


def _editor_text(page: Page, container: str) -> str:
    """The whole text of the CodeMirror editor inside ``container`` (not only its visible lines)."""
    editor = page.locator(f"{container} .CodeMirror").first
    text: str = editor.evaluate("element => element.CodeMirror.getValue()")
    return text


def _ids(value: Any) -> list[str]:
    """Every ``id`` in a GraphQL result, depth first, in document order."""
    if isinstance(value, dict):
        found = [value["id"]] if isinstance(value.get("id"), str) else []
        for key, child in value.items():
            if key != "id":
                found += _ids(child)
        return found
    if isinstance(value, list):
        return [found for child in value for found in _ids(child)]
    return []


def _assert_clean(watched: OfflinePage) -> None:
    assert watched.blocked_requests == [], "the page tried to leave this machine"
    assert watched.csp_violations() == []
    assert watched.console_errors == []
    assert watched.page_errors == []


def _open_graphiql(watched: OfflinePage, gateway_url: str) -> Page:
    page = watched.page
    response = page.goto(f"{gateway_url}/graphql")
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_strict_csp(response.headers.get("content-security-policy"))
    expect(page).to_have_title("kombo-gateway · GraphiQL")
    expect(page.locator(".graphiql-execute-button")).to_be_visible()
    return page


@pytest.mark.browser
def test_graphiql_runs_the_preloaded_query_offline(
    gateway_url: str, offline_page: OfflinePage
) -> None:
    page = _open_graphiql(offline_page, gateway_url)

    # The default query is in the editor, and the headers editor is open for X-Integration-Id.
    config = json.loads(page.locator("script#graphiql-config").text_content() or "")
    preloaded = _editor_text(page, ".graphiql-query-editor")
    assert preloaded == config["defaultQuery"]
    expect(page.locator(".graphiql-editor-tools button.active")).to_have_text("Headers")
    expect(page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)")).to_be_visible()

    # What the same query returns when posted straight to the gateway.
    direct = httpx.post(f"{gateway_url}/graphql", json={"query": preloaded}, timeout=30)
    assert direct.status_code == 200, direct.text
    assert "errors" not in direct.json(), direct.text
    expected_ids = _ids(direct.json()["data"])
    assert expected_ids, f"the default query should show interview ids: {direct.text}"

    page.locator(".graphiql-execute-button").click()

    result = page.locator(".result-window")
    expect(result).to_contain_text(expected_ids[0])
    shown = json.loads(_editor_text(page, ".result-window"))
    assert "errors" not in shown
    assert _ids(shown["data"]) == expected_ids
    _assert_clean(offline_page)


@pytest.mark.browser
def test_graphiql_docs_and_dialogs_work_under_the_csp(
    gateway_url: str, offline_page: OfflinePage
) -> None:
    page = _open_graphiql(offline_page, gateway_url)

    # The docs come from the gateway's own schema, by introspection.
    page.get_by_label("Show Documentation Explorer").click()
    docs = page.locator(".graphiql-plugin")
    expect(docs).to_contain_text("Root Types")
    expect(docs.get_by_text("Interview", exact=True).first).to_be_visible()

    # A dialog adds GraphiQL's one inline <style> (scroll lock), allowed by hash in the CSP.
    page.get_by_label("Open settings dialog").click()
    expect(page.get_by_role("dialog")).to_contain_text("Settings")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    _assert_clean(offline_page)


@pytest.mark.browser
def test_graphiql_sends_the_headers_editor_headers(
    gateway_url: str, offline_page: OfflinePage
) -> None:
    page = _open_graphiql(offline_page, gateway_url)
    integration = INTEGRATIONS[1]  # not the gateway's default one

    # Pasted into the headers editor, which the page opens from the start; run with Ctrl-Enter.
    page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
    page.keyboard.insert_text(json.dumps({"X-Integration-Id": integration}))
    page.locator(".graphiql-query-editor .CodeMirror").click()
    with page.expect_request(_is_query_run) as sent:
        page.keyboard.press("Control+Enter")

    assert sent.value.headers.get("x-integration-id") == integration
    result = page.locator(".result-window")
    expect(result).to_contain_text('"jobs"')
    shown = json.loads(_editor_text(page, ".result-window"))
    assert "errors" not in shown
    # The default query's five open jobs, of the integration the header named.
    nodes = [node["id"] for node in shown["data"]["jobs"]["nodes"]]
    assert nodes == open_jobs(integration)[:5]
    assert nodes != open_jobs(INTEGRATIONS[0])[:5]
    _assert_clean(offline_page)


README_SUBSCRIPTION = re.search(
    r"```graphql live\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S
)
"""The subscription of README "Live changes"."""


@pytest.mark.browser
def test_graphiql_runs_subscriptions_over_graphql_ws_with_the_headers_as_payload(
    gateway_url: str, offline_page: OfflinePage
) -> None:
    """README "Live changes"'s subscription leaves GraphiQL on ``ws://<same host>/graphql``
    (graphql-transport-ws), the Headers tab as ``connection_init``'s payload, and its change is
    shown. The socket is answered by the test (Playwright routes it), so this checks the page's
    wiring, not the gateway's transport."""
    page = offline_page.page
    seen: dict[str, Any] = {}
    assert README_SUBSCRIPTION is not None, 'README "Live changes" lost its ```graphql live'
    subscription = README_SUBSCRIPTION.group(1)
    change = {
        "type": "INTERVIEW",
        "deleted": False,
        "changedAt": "2026-12-06T10:00:00.000Z",
        "node": {
            "id": "gid://kombo/Interview/int_1",
            "title": "Retitled by the test",
            "startingAt": "2026-12-07T09:00:00.000Z",
            "application": {"candidate": {"firstName": "Zoë", "lastName": "Ångström"}},
        },
    }

    def serve(ws: WebSocketRoute) -> None:
        seen["url"] = ws.url

        def on_message(message: str | bytes) -> None:
            sent = json.loads(message)
            if sent["type"] == "connection_init":
                seen["payload"] = sent.get("payload")
                ws.send(json.dumps({"type": "connection_ack"}))
            elif sent["type"] == "subscribe":
                seen["query"] = sent["payload"]["query"]
                answer = {"data": {"changes": change}}
                ws.send(json.dumps({"type": "next", "id": sent["id"], "payload": answer}))

        ws.on_message(on_message)

    page.route_web_socket("**/graphql", serve)
    page = _open_graphiql(offline_page, gateway_url)
    integration = INTEGRATIONS[1]
    page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror").click()
    page.keyboard.insert_text(json.dumps({"X-Integration-Id": integration}))
    page.locator(".graphiql-query-editor .CodeMirror").first.evaluate(
        "(element, text) => element.CodeMirror.setValue(text)", subscription
    )
    # GraphiQL takes in an edit (operation name, storage) after a debounce: run once it has.
    page.wait_for_function(
        "text => localStorage.getItem('graphiql:query') === text", arg=subscription
    )
    page.locator(".graphiql-execute-button").click()

    expect(page.locator(".result-window")).to_contain_text("Retitled by the test")
    assert seen["url"] == gateway_url.replace("http://", "ws://", 1) + "/graphql"
    assert seen["payload"] == {"X-Integration-Id": integration}
    assert seen["query"] == subscription
    assert json.loads(_editor_text(page, ".result-window")) == {"data": {"changes": change}}
    _assert_clean(offline_page)


def open_jobs(integration: str) -> list[str]:
    """The global ids of the integration's live open jobs, in upstream order."""
    return [
        f"gid://kombo/Job/{r.payload['id']}"
        for r in records_for(integration, "Job")
        if r.payload["remote_deleted_at"] is None and r.payload.get("status") == "OPEN"
    ]


def test_the_page_config_cannot_close_its_script_element() -> None:
    query = '{ interviews { nodes { id } } } # </script><script src="/evil.js"></script><!--'
    page = render_page("/graphql?a=1&b=</script>", query)

    _, _, rest = page.partition('<script type="application/json" id="graphiql-config">')
    block, _, _ = rest.partition("</script>")
    assert json.loads(block) == {"graphqlPath": "/graphql?a=1&b=</script>", "defaultQuery": query}
    assert "evil.js" not in page.replace(block, "")
    assert "<script>" not in page


def _is_query_run(request: Request) -> bool:
    """A POST of the editor's query (not GraphiQL's own schema introspection)."""
    return request.method == "POST" and "__schema" not in (request.post_data or "")
