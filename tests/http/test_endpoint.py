"""`gateway.http.endpoint` without a server, over a toy schema with what the real one cannot show
(mutations, subscriptions, auth failures, bugs): status codes, error shapes, body limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, NewType

import httpx
import pytest
import strawberry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from gateway.errors import (
    Forbidden,
    QueryTooComplex,
    Unauthenticated,
    UpstreamError,
)
from gateway.http import (
    BUFFERED_BODIES,
    GRAPHQL_RESPONSE_JSON,
    JSON,
    GraphQLEndpoint,
)

HTML = "text/html"


def _parse_even(value: object) -> int:
    if not isinstance(value, int) or value % 2:
        raise ValueError(f"{value!r} is not an even integer")
    return value


Even = NewType("Even", int)
EVEN = strawberry.scalar(name="Even", serialize=int, parse_value=_parse_even)


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"

    @strawberry.field
    def half(self, n: Even) -> int:
        return n // 2

    @strawberry.field
    def broken(self) -> str | None:
        raise RuntimeError("password=hunter2")

    @strawberry.field
    def upstream(self) -> str | None:
        raise UpstreamError("gone", code="X.Y", title=None, log_url=None, status=404)


@strawberry.type
class Mutation:
    @strawberry.mutation
    def touch(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self) -> AsyncIterator[int]:
        yield 1


class RejectOnValidate(SchemaExtension):
    """Stands for a complexity limit (and a buggy one): raises before execution."""

    def on_validate(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if "tooComplex" in query:
            raise QueryTooComplex("cost 1000 exceeds 100")
        if "crashValidation" in query:
            raise RuntimeError("secret internals")
        yield


SCHEMA = strawberry.Schema(
    Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[RejectOnValidate],
    config=StrawberryConfig(scalar_map={Even: EVEN}),
)


async def context_getter(request: Request) -> dict[str, Any]:
    token = request.headers.get("authorization")
    if token == "Bearer expired":
        raise Unauthenticated("The token has expired.")
    if token == "Bearer other-tenant":
        raise Forbidden("Not your integration.")
    if token == "Bearer bug":
        raise ZeroDivisionError("secret internals")
    return {}


def graphiql(_request: Request) -> Response:
    return HTMLResponse("<title>GraphiQL</title>")


class Client:
    """A synchronous front for httpx's ASGI transport: each call runs in its own event loop."""

    def __init__(self, **endpoint_options: Any) -> None:
        endpoint = GraphQLEndpoint(SCHEMA, context_getter, **endpoint_options)
        self.app = Starlette(routes=[Route("/graphql", endpoint, methods=["GET", "POST"])])

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
                return await http.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)


@pytest.fixture
def client() -> Client:
    return Client(graphiql=graphiql)


def post(client: Client, query: str, accept: str = GRAPHQL_RESPONSE_JSON, **headers: str) -> Any:
    return client.post("/graphql", json={"query": query}, headers={"Accept": accept, **headers})


@pytest.mark.parametrize("accept", [JSON, GRAPHQL_RESPONSE_JSON])
def test_unauthenticated_is_401_with_a_bearer_challenge(client: Client, accept: str) -> None:
    response = post(client, "{ hello }", accept, Authorization="Bearer expired")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith(accept)
    assert response.json() == {
        "errors": [{"message": "The token has expired.", "extensions": {"code": "UNAUTHENTICATED"}}]
    }


def test_forbidden_is_403(client: Client) -> None:
    response = post(client, "{ hello }", Authorization="Bearer other-tenant")

    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_a_bug_in_the_context_getter_is_a_masked_500(client: Client) -> None:
    response = post(client, "{ hello }", Authorization="Bearer bug")

    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}


def test_authentication_comes_before_validation(client: Client) -> None:
    # An unauthenticated client must not learn the schema from validation messages.
    response = post(client, "{ secretField }", Authorization="Bearer expired")

    assert response.status_code == 401
    assert "secretField" not in response.text


def test_field_errors_are_masked_or_coded_and_keep_partial_data(client: Client) -> None:
    response = post(client, "{ hello broken upstream }")

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"hello": "world", "broken": None, "upstream": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL_SERVER_ERROR", "X.Y"]
    assert "hunter2" not in response.text


def test_mutations_run_over_post_only(client: Client) -> None:
    assert post(client, "mutation { touch }").json() == {"data": {"touch": True}}

    response = client.get(
        "/graphql",
        params={"query": "mutation { touch }"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


def test_get_picks_the_named_query_of_a_mixed_document(client: Client) -> None:
    response = client.get(
        "/graphql",
        params={"query": "mutation M { touch } query Q { hello }", "operationName": "Q"},
    )

    assert response.json() == {"data": {"hello": "world"}}


def test_subscriptions_are_a_request_error(client: Client) -> None:
    response = post(client, "subscription { ticks }")

    assert response.status_code == 400
    assert "data" not in response.json()


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE_JSON, 400), (JSON, 200)])
def test_gateway_error_before_execution_keeps_its_code(
    client: Client, accept: str, status: int
) -> None:
    response = post(client, "query tooComplex { hello }", accept)

    assert response.status_code == status
    assert response.json() == {
        "errors": [
            {"message": "cost 1000 exceeds 100", "extensions": {"code": "QUERY_TOO_COMPLEX"}}
        ]
    }


def test_a_bug_before_execution_is_a_masked_500(client: Client) -> None:
    response = post(client, "query crashValidation { hello }")

    assert response.status_code == 500
    assert "data" not in response.json()
    assert "secret" not in response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}


def test_body_limit_counts_declared_and_streamed_bytes() -> None:
    client = Client(max_body_bytes=64)

    async def chunks() -> AsyncIterator[bytes]:  # sent chunked: no Content-Length to trust
        yield b'{"query": "{ hello }", "pad": "'
        yield b"x" * 100
        yield b'"}'

    small = client.post("/graphql", json={"query": "{ hello }"})
    declared = client.post("/graphql", json={"query": "{ hello }", "pad": "x" * 100})
    streamed = client.post(
        "/graphql", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert small.status_code == 200
    assert declared.status_code == 413
    assert streamed.status_code == 413


def test_bodies_read_at_once_are_bounded_per_process_and_released() -> None:
    """BUFFERED_BODIES bodies of the largest size may be in memory at once; one more chunk
    is refused 503 (at capacity) while they trickle, and their bytes are released after."""
    limit = 1024
    endpoint = GraphQLEndpoint(SCHEMA, context_getter, max_body_bytes=limit)
    app = Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
    release = asyncio.Event()
    started = 0

    async def trickle() -> AsyncIterator[bytes]:
        nonlocal started
        yield b'{"query": "{ hello }", "pad": "' + b"x" * (limit - 40)
        started += 1
        await release.wait()
        yield b'"}'

    async def scenario() -> tuple[list[httpx.Response], httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:

            def send(content: Any) -> Any:
                return http.post(
                    "/graphql", content=content, headers={"Content-Type": "application/json"}
                )

            held = [asyncio.create_task(send(trickle())) for _ in range(BUFFERED_BODIES)]
            while started < BUFFERED_BODIES:  # every body's first chunk is in memory
                await asyncio.sleep(0)
            refused = await send(b'{"query": "{ hello }", "pad": "' + b"y" * 500 + b'"}')
            release.set()
            answered = list(await asyncio.gather(*held))
            after = await send(b'{"query": "{ hello }"}')
            return answered, refused, after

    answered, refused, after = asyncio.run(scenario())
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    assert error["message"].startswith("the gateway is at capacity")
    assert [r.status_code for r in answered] == [200] * BUFFERED_BODIES
    assert after.status_code == 200
    assert endpoint._buffered_bodies == 0


def test_without_graphiql_a_browser_get_is_406() -> None:
    response = Client().get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 406


def test_browser_get_renders_graphiql_and_varies_on_accept(client: Client) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})

    assert response.text == "<title>GraphiQL</title>"
    assert "accept" in response.headers["vary"].lower()


def test_json_is_compact_utf8(client: Client) -> None:
    response = client.get(
        "/graphql", params={"query": '{ __type(name: "Café") { name } }'}, headers={"Accept": JSON}
    )

    assert response.content == b'{"data":{"__type":null}}'


@pytest.mark.parametrize(("accept", "status"), [(GRAPHQL_RESPONSE_JSON, 400), (JSON, 200)])
def test_a_scalar_refusing_a_variable_is_bad_user_input(
    client: Client, accept: str, status: int
) -> None:
    response = client.post(
        "/graphql",
        json={"query": "query ($n: Even!) { half(n: $n) }", "variables": {"n": 3}},
        headers={"Accept": accept},
    )

    assert response.status_code == status
    [error] = response.json()["errors"]
    assert "data" not in response.json()
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "3 is not an even integer" in error["message"]


def test_a_scalar_refusing_a_literal_is_bad_user_input(client: Client) -> None:
    response = post(client, "{ half(n: 3) }")

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
