"""`Cache-Control` and `Vary` on every answer of `/graphql` (README "HTTP caching").

In-process over the embedded sandbox for what the real gateway answers (POST, GET, persisted GETs
by each id form, `PersistedQueryNotFound`, JWT, errors, CORS), and over a toy endpoint for the
error statuses the real schema cannot be made to show on demand (503, a bug in the context)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from gateway.errors import Forbidden, GatewayAtCapacity, Unauthenticated
from gateway.http import GraphQLEndpoint
from gateway.http.caching import HttpCaching
from gateway.persisted import sha256_hex
from gateway.sandbox.data import INTEGRATIONS
from tests.support.clients import Gateway
from tests.support.in_process import in_process_gateway
from tests.support.persisted_documents import persisted
from tests.support.tenancy_tokens import AUDIENCE, ISSUER, Issuer, make_issuer

VARY = ["accept", "origin", "authorization", "x-integration-id"]
PRIVATE = "private, max-age=60"
ORIGIN = "https://app.example.com"
LIST = "query List { interviews(first: 2) { nodes { id } } }"
LIST_HASH = sha256_hex(LIST)
PARTIAL = "{ a: interviews(first: 1) { nodes { id } } b: interviews(first: -1) { nodes { id } } }"
JSON_ACCEPT = {"Accept": "application/json"}


def vary(response: httpx.Response) -> list[str]:
    return [name.strip().lower() for name in response.headers.get("vary", "").split(",")]


def assert_headers(response: httpx.Response, cache_control: str) -> None:
    assert response.headers.get("cache-control") == cache_control, (
        response.status_code,
        response.text[:200],
    )
    names = vary(response)
    assert set(VARY) <= set(names), names
    assert len(names) == len(set(names)), f"duplicates in Vary: {names}"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    env = {"GATEWAY_HTTP_MAX_AGE": "60", "GATEWAY_CORS_ORIGINS": ORIGIN}
    with in_process_gateway(env) as gateway:
        # Registered once, as an APQ client does after its first miss.
        registered = gateway.http.post(
            "/graphql", json={"query": LIST, "extensions": persisted(LIST_HASH)}
        )
        assert registered.status_code == 200
        yield gateway


@pytest.fixture(scope="module")
def default() -> Iterator[Gateway]:
    with in_process_gateway({"GATEWAY_MAX_BODY_BYTES": "1024"}) as gateway:
        yield gateway


def get(gateway: Gateway, headers: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return gateway.http.get("/graphql", params=encoded, headers={**JSON_ACCEPT, **(headers or {})})


# --- successful answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"query": LIST}, id="plain"),
        pytest.param({"extensions": persisted(LIST_HASH)}, id="apollo-hex"),
        pytest.param({"extensions": persisted(f"sha256:{LIST_HASH}")}, id="apollo-prefixed"),
        pytest.param({"documentId": f"sha256:{LIST_HASH}"}, id="documentId"),
    ],
)
def test_a_successful_get_is_private_for_max_age(gateway: Gateway, params: dict[str, Any]) -> None:
    response = get(gateway, **params)
    assert response.status_code == 200 and "errors" not in response.json()
    assert_headers(response, PRIVATE)


def test_the_integration_header_keeps_it_private_and_varies(gateway: Gateway) -> None:
    response = get(gateway, {"X-Integration-Id": INTEGRATIONS[1]}, query=LIST)
    assert response.status_code == 200
    assert_headers(response, PRIVATE)


@pytest.mark.parametrize(
    "credential", [{"Authorization": "Bearer anything"}, {"Cookie": "session=abc"}]
)
def test_a_get_bearing_a_credential_is_never_stored(
    gateway: Gateway, credential: dict[str, str]
) -> None:
    response = get(gateway, credential, query=LIST)
    assert response.status_code == 200
    assert_headers(response, "no-store")


def test_a_post_is_never_stored(gateway: Gateway) -> None:
    for body in ({"query": LIST}, {"documentId": f"sha256:{LIST_HASH}"}):
        response = gateway.http.post("/graphql", json=body)
        assert response.status_code == 200
        assert_headers(response, "no-store")


def test_without_max_age_a_get_is_not_stored(default: Gateway) -> None:
    response = get(default, query=LIST)
    assert response.status_code == 200
    assert_headers(response, "no-store")


def test_cors_adds_no_second_origin(gateway: Gateway) -> None:
    response = get(gateway, {"Origin": ORIGIN}, query=LIST)
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert_headers(response, PRIVATE)


# --- error answers -------------------------------------------------------------------------------


def test_error_answers_of_gets_are_never_stored(gateway: Gateway) -> None:
    answers = [
        get(gateway, query="{ nope }"),  # validation: 200 under application/json
        get(gateway, {"Accept": "application/graphql-response+json"}, query="{ nope }"),  # 400
        get(gateway, query="{ interviews(first: -1) { nodes { id } } }"),  # a field error
        get(gateway, query=PARTIAL),  # data for `a`, an error for `b`
        get(gateway, extensions=persisted("0" * 64)),  # PersistedQueryNotFound, 200
        get(gateway, documentId="sha256:nothex"),  # 400
        get(gateway),  # no query: 400
        get(gateway, {"Accept": "image/png"}, query=LIST),  # 406
        get(gateway, query="mutation { __typename }"),  # 405 (or 400: no mutation type)
    ]
    for response in answers:
        assert response.status_code != 200 or "errors" in response.json(), response.text
        assert_headers(response, "no-store")


def test_error_answers_of_posts_are_never_stored(default: Gateway) -> None:
    http = default.http
    answers = [
        http.post("/graphql", content=b"{", headers={"Content-Type": "application/json"}),  # 400
        http.post("/graphql", json=[{"query": LIST}, {"query": LIST}]),  # a batch: 400
        http.post("/graphql", content=b"x" * 2048, headers={"Content-Type": "application/json"}),
        http.post("/graphql", content=b"{}", headers={"Content-Type": "text/plain"}),  # 415
        http.put("/graphql", json={"query": LIST}),  # 405
    ]
    assert [r.status_code for r in answers] == [400, 400, 413, 415, 405]
    for response in answers:
        assert_headers(response, "no-store")


def test_graphiql_is_not_stored(gateway: Gateway) -> None:
    page = gateway.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert_headers(page, "no-store")


# --- JWT -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def issuer() -> Issuer:
    return make_issuer("HS256")


@pytest.fixture(scope="module")
def jwt_gateway(issuer: Issuer) -> Iterator[Gateway]:
    env = {
        "GATEWAY_AUTH": "jwt",
        "GATEWAY_JWT_AUDIENCE": AUDIENCE,
        "GATEWAY_JWT_ISSUER": ISSUER,
        **issuer.gateway_env,
    }
    with in_process_gateway(env) as gateway:
        yield gateway


def test_with_jwt_nothing_is_stored(jwt_gateway: Gateway, issuer: Issuer) -> None:
    token = {"Authorization": f"Bearer {issuer.token(INTEGRATIONS[0])}"}
    ok_get = get(jwt_gateway, token, query=LIST)
    ok_post = jwt_gateway.http.post("/graphql", json={"query": LIST}, headers=token)
    missing = get(jwt_gateway, query=LIST)
    forged = get(jwt_gateway, {"Authorization": "Bearer nope"}, query=LIST)
    assert [r.status_code for r in (ok_get, ok_post, missing, forged)] == [200, 200, 401, 401]
    for response in (ok_get, ok_post, missing, forged):
        assert_headers(response, "no-store")


# --- the endpoint alone: the statuses a context getter raises ------------------------------------


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


async def refusing_context(request: Request) -> dict[str, Any]:
    refusal = request.headers.get("x-refuse")
    if refusal == "401":
        raise Unauthenticated("The token has expired.")
    if refusal == "403":
        raise Forbidden("Not your integration.")
    if refusal == "503":
        raise GatewayAtCapacity(waited=1.0, retry_after=1)
    if refusal == "500":
        raise ZeroDivisionError("a bug")
    return {}


def endpoint_answer(headers: dict[str, str]) -> httpx.Response:
    endpoint = GraphQLEndpoint(
        strawberry.Schema(Query), refusing_context, caching=HttpCaching(max_age=60)
    )
    app = Starlette(routes=[Route("/graphql", endpoint)])

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            return await http.get("/graphql", params={"query": "{ hello }"}, headers=headers)

    return asyncio.run(send())


@pytest.mark.parametrize("status", ["401", "403", "500", "503"])
def test_refusals_before_execution_are_never_stored(status: str) -> None:
    response = endpoint_answer({"x-refuse": status})
    assert response.status_code == int(status)
    assert_headers(response, "no-store")


def test_the_same_endpoint_lets_a_clean_get_be_private() -> None:
    response = endpoint_answer({})
    assert response.json() == {"data": {"hello": "world"}}
    assert_headers(response, PRIVATE)
