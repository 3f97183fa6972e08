"""Browsers: CORS (README "Browsers: CORS"), in-process over the embedded sandbox: preflights
accept what frontend tooling sends from allowed origins, refuse everything else without a single
`Access-Control-*` header, are cached for two hours, and answers vary on `Origin` once."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.http.cors import GATEWAY_HEADERS, PREFLIGHT_MAX_AGE, TOOLING_HEADERS
from tests.support.clients import Gateway
from tests.support.in_process import in_process_gateway

APP = "https://app.example.com"
EVIL = "https://evil.example"
TOOLING = "content-type,traceparent,apollographql-client-name,sentry-trace"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    env = {"GATEWAY_CORS_ORIGINS": APP, "GATEWAY_CORS_HEADERS": "X-Client-Version"}
    with in_process_gateway(env) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def any_origin() -> Iterator[Gateway]:
    with in_process_gateway({"GATEWAY_CORS_ORIGINS": "*"}) as gateway:
        yield gateway


def preflight(gateway: Gateway, origin: str, headers: str, method: str = "POST") -> httpx.Response:
    return gateway.http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def allowed(response: httpx.Response) -> set[str]:
    value = response.headers["access-control-allow-headers"]
    return {name.strip().lower() for name in value.split(",")}


def cors_headers(response: httpx.Response) -> list[str]:
    return [name for name in response.headers if name.lower().startswith("access-control-")]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_preflight_with_the_tooling_headers_is_accepted(gateway: Gateway, method: str) -> None:
    response = preflight(gateway, APP, TOOLING, method)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP
    assert set(TOOLING.split(",")) <= allowed(response)
    assert response.headers["access-control-max-age"] == str(PREFLIGHT_MAX_AGE) == "7200"
    assert "access-control-allow-credentials" not in response.headers


def test_every_tooling_header_and_the_configured_ones_in_any_case(gateway: Gateway) -> None:
    names = [*TOOLING_HEADERS, *GATEWAY_HEADERS, "x-client-version"]
    shouting = ", ".join(name.upper() for name in names)
    response = preflight(gateway, APP, shouting)
    assert response.status_code == 200, response.text
    assert set(names) <= allowed(response)


def test_an_unknown_header_is_refused_by_name_without_cors_headers(gateway: Gateway) -> None:
    response = preflight(gateway, APP, "content-type, traceparent, x-admin-override")
    assert response.status_code == 400
    assert "x-admin-override" in response.text
    assert "traceparent" not in response.text
    assert cors_headers(response) == []


@pytest.mark.parametrize(
    "origin", [EVIL, "http://app.example.com", "https://app.example.com.evil.example"]
)
def test_a_disallowed_origin_gets_no_cors_header_at_all(gateway: Gateway, origin: str) -> None:
    response = preflight(gateway, origin, TOOLING)
    assert response.status_code == 400
    assert cors_headers(response) == []
    answer = gateway.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin}
    )
    assert answer.status_code == 200
    assert cors_headers(answer) == []


def test_other_methods_and_private_network_access_are_refused(gateway: Gateway) -> None:
    assert preflight(gateway, APP, "content-type", "PUT").status_code == 400
    response = gateway.http.options(
        "/graphql",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.status_code == 400
    assert cors_headers(response) == []


def test_an_allowed_origin_reads_the_answer_which_varies_on_origin_once(gateway: Gateway) -> None:
    response = gateway.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": APP, "traceparent": f"00-{'a' * 32}-{'b' * 16}-01"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP
    assert response.headers["access-control-expose-headers"] == "X-Request-Id"
    vary = [name.strip().lower() for name in response.headers["vary"].split(",")]
    assert vary.count("origin") == 1, vary


def test_any_origin_is_answered_as_a_wildcard(any_origin: Gateway) -> None:
    response = preflight(any_origin, EVIL, TOOLING)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    answer = any_origin.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
    )
    assert answer.headers["access-control-allow-origin"] == "*"
