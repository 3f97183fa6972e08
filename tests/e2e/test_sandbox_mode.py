"""`make run`'s gateway: no API key, the embedded sandbox in-process, GraphiQL ready.

What ``serve`` logs runs against the real process; the rest against the app in-process, which
serves the sandbox without an API key as ``serve`` does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.sandbox.data import INTEGRATIONS
from tests.support.clients import Gateway
from tests.support.graphiql_csp import assert_strict_csp
from tests.support.in_process import in_process_gateway
from tests.support.truth import gids, visible


@pytest.fixture(scope="module")
def sandbox_mode_gateway() -> Iterator[Gateway]:
    with in_process_gateway({"KOMBO_API_KEY": ""}) as gateway:
        yield gateway


def test_without_an_api_key_the_gateway_serves_the_sandbox_and_says_so(
    sandbox_mode_gateway_url: str, server_logs: Path
) -> None:
    gateway = Gateway(sandbox_mode_gateway_url)
    data = gateway.query("{ interviews(first: 250) { nodes { id } } }")
    assert [n["id"] for n in data["interviews"]["nodes"]] == gids(visible(INTEGRATIONS[0]))[:250]
    log = (server_logs / "gateway-sandbox-mode.log").read_text()
    assert "KOMBO_API_KEY is not set: serving the embedded sandbox" in log


def test_sandbox_mode_reads_the_integration_from_the_header(sandbox_mode_gateway: Gateway) -> None:
    data = sandbox_mode_gateway.query(
        "{ interviews(first: 250) { nodes { id } } }",
        headers={"X-Integration-Id": INTEGRATIONS[2]},
    )
    assert [n["id"] for n in data["interviews"]["nodes"]] == gids(visible(INTEGRATIONS[2]))


def test_health_readiness_and_graphiql_routes(sandbox_mode_gateway: Gateway) -> None:
    http = sandbox_mode_gateway.http
    assert http.get("/healthz").status_code == 200
    assert http.get("/readyz").status_code == 200
    page = http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in page.text
    assert "https://" not in page.text.split("<body")[0], "no asset from a CDN"
    assert_strict_csp(page.headers.get("content-security-policy"))
