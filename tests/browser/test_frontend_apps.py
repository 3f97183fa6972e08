"""The README's "Using it from a frontend" snippets, run as written in headless Chromium.

``tests/browser/frontend/build.mjs`` extracts every ```` ```ts title="…" ```` block of README.md,
runs GraphQL Code Generator's client preset (persisted documents, ``sha256:`` hashes) over them and
bundles them with esbuild, with a small harness (``app.ts``, ``app3.ts``) that exposes what a
frontend does as functions. The page is served from another origin (a static server on another
loopback port) than the two gateways it calls, which allow it with ``GATEWAY_CORS_ORIGINS``:

- an open gateway (``GATEWAY_AUTH=none``, APQ on): Apollo Client 4 walks a whole integration's jobs
  with ``fetchMore`` and ``relayStylePagination``, urql with Graphcache's ``relayPagination``,
  each refetches a node by global id, Relay's network runs, and each error kind is read as the
  README says each client surfaces it;
- a production-like gateway (``GATEWAY_AUTH=jwt`` and ``GATEWAY_TRUSTED_DOCUMENTS`` set to the
  ``persisted-documents.json`` codegen wrote, unchanged): the codegen hashes as ``documentId``
  (POST and GET) and as Apollo's ``sha256Hash``, and ``UNAUTHENTICATED`` without a token.

Every request carries what OpenTelemetry's and Sentry's fetch instrumentation add (``traceparent``,
``sentry-trace``, ``baggage``; index.html patches ``fetch`` as they do) and Apollo's
``apollographql-client-name``: a preflight refusing any of them fails the request in the browser.
That each went through is checked from both ends: Chromium saw the answer, and the gateway's log
has a line for the request with the ``X-Request-Id`` that answer carried. Preflights are counted
through the DevTools protocol.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import math
import re
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from playwright.sync_api import Browser, Page, Request, Response

from gateway.sandbox.data import records_for
from tests.support.offline_browser import LOCAL_HOSTS
from tests.support.otlp_collector import Collector, otlp_collector
from tests.support.servers import DEFAULT_INTEGRATION, free_port, serve_gateway

FRONTEND = Path(__file__).parent / "frontend"
APP = FRONTEND / "build" / "app"
JWT_SECRET = secrets.token_urlsafe(48)
PAGE_SIZE = 5
CALL_TIMEOUT_MS = 20_000
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

# How each client surfaces each error kind, as the README says (codes of extensions.code).
EXPECTED_CODES = {
    "BAD_USER_INPUT": {"BAD_USER_INPUT"},
    "QUERY_TOO_COMPLEX": {"QUERY_TOO_COMPLEX"},
    "UPSTREAM": {"INTEGRATION.MODEL_NOT_AVAILABLE"},
    "UNAUTHENTICATED": {"UNAUTHENTICATED"},
}


def expected_job_ids(integration: str = DEFAULT_INTEGRATION) -> list[str]:
    """The global ids of the integration's jobs a list shows (deleted ones left out), in order."""
    return [
        f"gid://kombo/Job/{record.payload['id']}"
        for record in records_for(integration, "Job")
        if record.payload.get("remote_deleted_at") is None
    ]


def token(integration: str = DEFAULT_INTEGRATION) -> str:
    claims = {"kombo_integration_id": integration, "exp": int(time.time()) + 600}
    return jwt.encode(claims, JWT_SECRET, "HS256")


# --- the app, its origin and its gateways -----------------------------------------------------


@pytest.fixture(scope="module")
def app_build(testrun_uid: str) -> Path:
    """The app bundled from README.md's snippets (``node build.mjs``, about 5 s), once per test
    run: under ``make test``'s two xdist workers, the second waits for the first's build (a lock
    file) and uses it, rather than rebuilding the directory the first one serves from."""
    node = shutil.which("node")
    assert node, "node is required for the frontend browser tests"
    assert (FRONTEND / "node_modules" / "esbuild").is_dir(), "run `make frontend-deps` first"
    (FRONTEND / "build").mkdir(exist_ok=True)
    with (FRONTEND / "build" / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = APP / f".built-by-{testrun_uid}"
        if not stamp.exists():
            subprocess.run([node, "build.mjs"], cwd=FRONTEND, check=True, timeout=120)
            stamp.touch()
    return APP


@pytest.fixture(scope="module")
def app_origin(app_build: Path) -> Iterator[str]:
    """A static server for the app on its own loopback port: another origin than the gateways."""
    handler = functools.partial(_QuietHandler, directory=str(app_build))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Gateway:
    url: str
    log: Path
    collector: Collector | None = None
    """Where the gateway exports its spans over OTLP (the open gateway traces)."""

    def log_lines(self, request_id: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if request_id in line]


@pytest.fixture(scope="module")
def open_gateway(sandbox_url: str, server_logs: Path, app_origin: str) -> Iterator[Gateway]:
    log = server_logs / "gateway-frontend-open.log"
    with (
        otlp_collector() as (collector_url, collector),
        serve_gateway(
            sandbox_url,
            log,
            GATEWAY_CORS_ORIGINS=app_origin,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector_url,
            OTEL_BSP_SCHEDULE_DELAY="100",  # milliseconds (the default is 5 s)
        ) as url,
    ):
        yield Gateway(url, log, collector)


@pytest.fixture(scope="module")
def trusted_gateway(sandbox_url: str, server_logs: Path, app_origin: str) -> Iterator[Gateway]:
    """JWT and trusted documents: codegen's persisted-documents.json, as it wrote it."""
    log = server_logs / "gateway-frontend-trusted.log"
    manifest = APP / "src" / "gql" / "persisted-documents.json"
    with serve_gateway(
        sandbox_url,
        log,
        GATEWAY_CORS_ORIGINS=app_origin,
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_SECRET=JWT_SECRET,
        GATEWAY_TRUSTED_DOCUMENTS=str(manifest),
    ) as url:
        yield Gateway(url, log)


@dataclass
class AppPage:
    """The app open on its own origin, talking to ``gateway``, with what went over the wire."""

    page: Page
    gateway: Gateway
    exchanges: list[tuple[Request, Response]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    preflights: list[str] = field(default_factory=list)

    def call(self, expression: str, *args: Any) -> Any:
        """``expression(...args)`` in the page, awaited for at most CALL_TIMEOUT_MS (a promise
        that never settles must fail the test, not hang it)."""
        script = f"""(args) => Promise.race([
            {expression}(...args),
            new Promise((_, reject) => setTimeout(
                () => reject(new Error("{expression} did not settle")), {CALL_TIMEOUT_MS})),
        ])"""
        return self.page.evaluate(script, list(args))

    def graphql_exchanges(self) -> list[tuple[Request, Response]]:
        self.page.wait_for_timeout(300)  # Playwright reports finished requests asynchronously
        return [(q, r) for q, r in self.exchanges if q.url.startswith(self.gateway.url)]

    def clear(self) -> None:
        self.page.wait_for_timeout(300)  # let the last call's events arrive first
        self.exchanges.clear()
        self.failed.clear()
        self.preflights.clear()


def open_app(browser: Browser, origin: str, gateway: Gateway) -> Iterator[AppPage]:
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(15_000)
    page = context.new_page()
    app = AppPage(page, gateway)
    blocked: list[str] = []
    errors: list[str] = []

    # Watched, not routed: with request interception on, Chromium preflights every request
    # (its preflight cache is bypassed), which would hide what a real browser does.
    page.on(
        "request",
        lambda request: (
            None if urlsplit(request.url).hostname in LOCAL_HOSTS else blocked.append(request.url)
        ),
    )
    page.on("requestfinished", lambda request: _finished(app, request))
    page.on("requestfailed", lambda request: app.failed.append(f"{request.method} {request.url}"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: print(f"console.{message.type}: {message.text}"))
    # Preflights never reach Playwright's events; the DevTools protocol reports them.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")

    def on_request(event: dict[str, Any]) -> None:
        if event.get("type") == "Preflight" or event["request"]["method"] == "OPTIONS":
            app.preflights.append(event["request"]["url"])

    cdp.on("Network.requestWillBeSent", on_request)
    response = page.goto(f"{origin}/index.html?gateway={gateway.url}")
    assert response is not None and response.ok
    page.wait_for_function("() => globalThis.frontend && globalThis.frontend3")
    try:
        yield app
    finally:
        context.close()
    assert blocked == [], "the app tried to leave this machine"
    assert errors == []


def _finished(app: AppPage, request: Request) -> None:
    response = request.response()
    if response is not None:
        app.exchanges.append((request, response))


@pytest.fixture
def open_app_page(browser: Browser, app_origin: str, open_gateway: Gateway) -> Iterator[AppPage]:
    yield from open_app(browser, app_origin, open_gateway)


@pytest.fixture
def trusted_app_page(
    browser: Browser, app_origin: str, trusted_gateway: Gateway
) -> Iterator[AppPage]:
    yield from open_app(browser, app_origin, trusted_gateway)


def assert_went_through(app: AppPage, operation: str, *, client_name: bool = True) -> None:
    """Every GraphQL request carried the tooling headers, was answered, and the gateway logged it
    (its log line has the X-Request-Id the answer carried, and the operation's name)."""
    assert app.failed == [], app.failed
    exchanges = app.graphql_exchanges()
    assert exchanges, "no GraphQL request reached the gateway"
    for request, response in exchanges:
        headers = request.all_headers()
        assert headers["traceparent"].startswith(f"00-{TRACE_ID}-")
        assert headers["sentry-trace"].startswith(f"{TRACE_ID}-")
        if client_name:
            assert headers["apollographql-client-name"] == "recruiter-dashboard"
        request_id = response.all_headers()["x-request-id"]
        lines = app.gateway.log_lines(request_id)
        assert any(f"operation={operation}" in line for line in lines), (request_id, lines)


# --- paging, refetching, Relay ----------------------------------------------------------------


@pytest.mark.browser
def test_apollo_walks_every_job_once_and_refetches_by_global_id(
    open_app_page: AppPage,
) -> None:
    app = open_app_page
    expected = expected_job_ids()
    walked = app.call("frontend.apolloWalk", PAGE_SIZE)
    assert walked["ids"] == expected
    assert walked["pages"] == math.ceil(len(expected) / PAGE_SIZE)
    # One normalized entry per job, keyed by the global id with no keyFields configured.
    assert sorted(walked["cached"]) == sorted(f"Job:{job_id}" for job_id in expected)
    assert_went_through(app, "JobsPage")
    # POST to one URL: at most one preflight, whatever the number of pages.
    assert {request.method for request, _ in app.graphql_exchanges()} == {"POST"}
    assert len(app.preflights) <= 1, app.preflights

    app.clear()
    refetched = app.call("frontend.apolloNode", expected[3])
    assert refetched["node"]["id"] == expected[3]
    assert refetched["cacheId"] == f"Job:{expected[3]}"
    assert_went_through(app, "JobNode")


@pytest.mark.browser
def test_urql_walks_every_job_once_with_relay_pagination(open_app_page: AppPage) -> None:
    app = open_app_page
    expected = expected_job_ids()
    walked = app.call("frontend.urqlWalk", PAGE_SIZE)
    assert walked["ids"] == expected
    assert walked["pages"] == math.ceil(len(expected) / PAGE_SIZE)
    # urql sends no apollographql-client-name.
    assert_went_through(app, "JobsPage", client_name=False)
    assert {request.method for request, _ in app.graphql_exchanges()} == {"POST"}
    assert len(app.preflights) <= 1, app.preflights

    app.clear()
    refetched = app.call("frontend.urqlNode", expected[-1])
    assert refetched["error"] is None
    assert refetched["node"]["id"] == expected[-1]


@pytest.mark.browser
def test_relay_network_runs_a_node_query(open_app_page: AppPage) -> None:
    job_id = expected_job_ids()[0]
    response = open_app_page.call("frontend.relayQuery", job_id)
    assert "errors" not in response, response
    assert response["data"]["node"]["__typename"] == "Job"
    assert response["data"]["node"]["id"] == job_id
    assert_went_through(open_app_page, "JobNodeRelay", client_name=False)


@pytest.mark.browser
def test_a_header_outside_the_allowed_ones_fails_the_request_as_the_readme_says(
    open_app_page: AppPage,
) -> None:
    """The control: the tooling headers pass only because the gateway allows them."""
    assert open_app_page.call("frontend.rawPost", {}) == 200
    refused = open_app_page.call("frontend.rawPost", {"X-Not-Allowed": "1"})
    assert refused == "TypeError: Failed to fetch"


# --- errors, as the README says each client surfaces them -------------------------------------


@pytest.mark.browser
def test_each_client_reads_each_error_kind_as_the_readme_says(
    open_app_page: AppPage, trusted_gateway: Gateway
) -> None:
    unauthenticated = {
        "UNAUTHENTICATED": {
            "query": "query Unauthenticated { jobs(first: 1) { nodes { id } } }",
            "headers": {},
            "uri": trusted_gateway.url + "/graphql",
        }
    }
    for harness in ("frontend.apolloErrors", "frontend.urqlErrors", "frontend3.apollo3Errors"):
        codes = open_app_page.call(harness, unauthenticated)
        assert {kind: set(found) for kind, found in codes.items()} == EXPECTED_CODES, harness
    assert open_app_page.failed == []

    # Apollo 4 asks for application/graphql-response+json (QUERY_TOO_COMPLEX is a 400 there);
    # Apollo 3 for */*, answered as application/json (a 200): both read the code the same way.
    too_complex = {
        request.headers["accept"]: response.status
        for request, response in open_app_page.graphql_exchanges()
        if "TooComplex" in (request.post_data or "")
    }
    assert too_complex.get("application/graphql-response+json,application/json;q=0.9") == 400
    assert too_complex.get("*/*") == 200


# --- persisted documents from codegen, against a JWT + trusted-documents gateway ---------------


@pytest.mark.browser
def test_codegen_persisted_documents_run_by_document_id_and_sha256_hash(
    trusted_app_page: AppPage,
) -> None:
    app = trusted_app_page
    hashes = app.call("frontend.documentHashes")
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes.values()), hashes
    auth = {"Authorization": f"Bearer {token()}"}
    expected = expected_job_ids()

    for method in ("POST", "GET"):
        answer = app.call("frontend.persistedExecute", expected[1], method, auth)
        assert answer.get("errors") is None, (method, answer)
        assert answer["data"]["node"]["id"] == expected[1]

    app.clear()
    walked = app.call("frontend.persistedWalk", PAGE_SIZE, "GET", auth)
    assert walked["errors"] is None, walked
    assert walked["ids"] == expected
    # No document went over the wire: only its hash.
    exchanges = app.graphql_exchanges()
    for request, _ in exchanges:
        assert request.method == "GET"
        assert "query=" not in request.url
    assert_went_through(app, "JobsPage", client_name=False)
    # With Authorization (or any tooling header), each distinct GET URL is preflighted: one
    # preflight per page, as the README's "GET and preflights" says.
    assert len(exchanges) == math.ceil(len(expected) / PAGE_SIZE)
    assert len(app.preflights) == len(exchanges), app.preflights

    node = app.call("frontend.persistedApollo", expected[2], auth)
    assert node["id"] == expected[2]

    refused = app.call("frontend.persistedExecute", expected[1], "POST", {})
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"]


# Every README block the harness runs; a new block must be added here and to app.ts / app3.ts.
SNIPPETS = [
    "codegen.ts",
    "src/documents.ts",
    "src/cache.ts",
    "src/apollo.ts",
    "src/apollo-feed.ts",
    "src/apollo-persisted.ts",
    "src/apollo3.ts",
    "src/urql.ts",
    "src/relay.ts",
    "src/persisted.ts",
]


def test_every_readme_snippet_is_built_and_codegen_wrote_a_trusted_manifest(
    app_build: Path,
) -> None:
    """The README's blocks are all extracted (and so bundled or run by codegen), and the manifest
    the trusted gateway loads is codegen's file as written: keys ``sha256:<hex>``."""
    assert json.loads((app_build / "snippets.json").read_text()) == SNIPPETS
    for path in SNIPPETS[1:]:
        module = "./build/app/" + path.removesuffix(".ts")
        harness = (FRONTEND / "app.ts").read_text() + (FRONTEND / "app3.ts").read_text()
        if path != "src/cache.ts":  # imported by the Apollo snippets themselves
            assert f'"{module}"' in harness, f"{path} is extracted but nothing runs it"
    manifest = json.loads((app_build / "src" / "gql" / "persisted-documents.json").read_text())
    assert manifest and all(re.fullmatch(r"sha256:[0-9a-f]{64}", key) for key in manifest)
    assert any(document.startswith("query JobsPage(") for document in manifest.values())


@pytest.mark.browser
def test_the_browsers_traceparent_continues_its_trace_in_the_gateway(
    open_app_page: AppPage,
) -> None:
    """What OpenTelemetry's web fetch instrumentation sends, from another origin through CORS:
    the gateway's server span of each request is in the browser's trace, its parent the span
    id the browser put in that request's ``traceparent`` (exported over OTLP to a collector)."""
    app = open_app_page
    app.call("frontend.apolloNode", expected_job_ids()[0])
    assert_went_through(app, "JobNode")
    browser_spans = {
        request.all_headers()["traceparent"].split("-")[2] for request, _ in app.graphql_exchanges()
    }
    collector = app.gateway.collector
    assert collector is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        continued = {
            span.parent_span_id.hex()
            for _, span in collector.spans()
            if span.trace_id.hex() == TRACE_ID and span.parent_span_id.hex() in browser_spans
        }
        if continued == browser_spans:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the gateway's spans did not continue the browser's: {collector.paths}")
