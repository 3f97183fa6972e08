"""The edge a browser frontend meets, over real gateway processes (sandbox mode): CORS preflights
with the headers frontend tooling sends, persisted documents by `documentId` and by a
`sha256:`-prefixed Apollo hash in APQ and trusted-documents modes, and `Cache-Control`/`Vary`
per kind of answer (README "Browsers: CORS", "Persisted queries", "HTTP caching")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast

from gateway.persisted import sha256_hex
from gateway.sandbox.data import INTEGRATIONS
from tests.support.servers import free_port, run_server
from tests.support.tenancy_tokens import AUDIENCE, ISSUER, Issuer, make_issuer

APP = "https://app.example.com"
EVIL = "https://evil.example"
TOOLING = "content-type,traceparent,apollographql-client-name,sentry-trace"
DOCUMENT = print_ast(parse("query Page { interviews(first: 2) { nodes { id } } }"))
DOCUMENT_ID = f"sha256:{sha256_hex(DOCUMENT)}"
VARY = {"accept", "origin", "authorization", "x-integration-id"}
JSON_ACCEPT = {"Accept": "application/json"}


def serve(log: Path, **env: str) -> Iterator[str]:
    port = free_port()
    base = {"KOMBO_API_KEY": "", "HOST": "127.0.0.1", "PORT": str(port)}
    with run_server(["serve"], {**base, **env}, "/readyz", port, log) as url:
        yield url


@pytest.fixture(scope="module")
def apq_url(server_logs: Path) -> Iterator[str]:
    yield from serve(
        server_logs / "gateway-frontend-apq.log",
        GATEWAY_CORS_ORIGINS=APP,
        GATEWAY_HTTP_MAX_AGE="30",
    )


@pytest.fixture(scope="module")
def trusted_url(server_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    manifest = tmp_path_factory.mktemp("codegen") / "persisted-documents.json"
    manifest.write_text(json.dumps({DOCUMENT_ID: DOCUMENT}, indent=2))  # the client preset's
    yield from serve(
        server_logs / "gateway-frontend-trusted.log",
        GATEWAY_CORS_ORIGINS=APP,
        GATEWAY_TRUSTED_DOCUMENTS=str(manifest),
        GATEWAY_HTTP_MAX_AGE="30",
    )


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return make_issuer("HS256")


@pytest.fixture(scope="module")
def jwt_url(server_logs: Path, issuer: Issuer) -> Iterator[str]:
    yield from serve(
        server_logs / "gateway-frontend-jwt.log",
        GATEWAY_CORS_ORIGINS=APP,
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        **issuer.gateway_env,
    )


def preflight(url: str, origin: str, headers: str = TOOLING) -> httpx.Response:
    return httpx.options(
        url + "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": headers,
        },
    )


def post(url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.post(url + "/graphql", json=body, headers={**JSON_ACCEPT, **headers})


def get(url: str, params: dict[str, Any], **headers: str) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return httpx.get(url + "/graphql", params=encoded, headers={**JSON_ACCEPT, **headers})


def two_nodes(response: httpx.Response) -> None:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    assert len(body["data"]["interviews"]["nodes"]) == 2


def cached_as(response: httpx.Response, cache_control: str) -> None:
    assert response.headers["cache-control"] == cache_control, response.text[:200]
    names = [n.strip().lower() for n in response.headers["vary"].split(",")]
    assert set(names) >= VARY and len(names) == len(set(names)), names


def test_a_preflight_with_tooling_headers_from_an_allowed_origin(apq_url: str) -> None:
    response = preflight(apq_url, APP)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP
    allowed = {h.strip() for h in response.headers["access-control-allow-headers"].split(",")}
    assert set(TOOLING.split(",")) <= allowed
    assert response.headers["access-control-max-age"] == "7200"


def test_a_preflight_from_a_disallowed_origin_gets_no_allow_header(apq_url: str) -> None:
    response = preflight(apq_url, EVIL)
    assert response.status_code == 400
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("mode", ["apq_url", "trusted_url"])
def test_document_id_and_prefixed_hashes_by_post_and_get(
    mode: str, request: pytest.FixtureRequest
) -> None:
    url: str = request.getfixturevalue(mode)
    if mode == "apq_url":
        miss = post(url, {"documentId": DOCUMENT_ID})
        assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        cached_as(miss, "no-store")
        two_nodes(post(url, {"documentId": DOCUMENT_ID, "query": DOCUMENT}))
    apollo = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": DOCUMENT_ID}}}
    for body in ({"documentId": DOCUMENT_ID}, apollo):
        by_post = post(url, body, Origin=APP, traceparent=f"00-{'1' * 32}-{'2' * 16}-01")
        two_nodes(by_post)
        cached_as(by_post, "no-store")
        assert by_post.headers["access-control-allow-origin"] == APP
        by_get = get(url, body, Origin=APP)
        two_nodes(by_get)
        cached_as(by_get, "private, max-age=30")
    malformed = get(url, {"documentId": DOCUMENT_ID.removeprefix("sha256:")})
    assert malformed.status_code == 400 and "documentId" in malformed.text
    cached_as(malformed, "no-store")


def test_cache_headers_of_plain_answers_and_errors(apq_url: str) -> None:
    cached_as(get(apq_url, {"query": DOCUMENT}), "private, max-age=30")
    cached_as(
        get(apq_url, {"query": DOCUMENT}, **{"X-Integration-Id": INTEGRATIONS[1]}),
        "private, max-age=30",
    )
    cached_as(post(apq_url, {"query": DOCUMENT}), "no-store")
    cached_as(get(apq_url, {"query": "{ nope }"}), "no-store")
    too_large = httpx.post(
        apq_url + "/graphql", content=b" " * 2_000_000, headers={"Content-Type": "application/json"}
    )
    assert too_large.status_code == 413
    cached_as(too_large, "no-store")
    # Refused by the connection layer before any app code: still never stored.
    too_long = httpx.get(apq_url + "/graphql", params={"query": "{" + " " * 20_000 + "}"})
    assert too_long.status_code == 414
    assert too_long.headers["cache-control"] == "no-store"


def test_with_jwt_answers_are_never_stored(jwt_url: str, issuer: Issuer) -> None:
    token = f"Bearer {issuer.token(INTEGRATIONS[0])}"
    ok = get(jwt_url, {"query": DOCUMENT}, Authorization=token, Origin=APP)
    two_nodes(ok)
    cached_as(ok, "no-store")
    refused = get(jwt_url, {"query": DOCUMENT}, Origin=APP)
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == APP
    cached_as(refused, "no-store")
