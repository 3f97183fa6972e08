"""`gateway.http` and `gateway.errors` without a server: negotiation, error shapes, and the
endpoint over a toy schema with what the real one cannot show (mutations, subscriptions, auth
failures, bugs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, NewType

import httpx
import pytest
import strawberry
from graphql import GraphQLError, build_schema, parse, validate
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from gateway.errors import (
    BadUserInput,
    Forbidden,
    GatewayError,
    QueryTooComplex,
    Unauthenticated,
    UpstreamError,
    UpstreamUnavailable,
)
from gateway.http import (
    BUFFERED_BODIES,
    GRAPHQL_RESPONSE_JSON,
    JSON,
    GraphQLEndpoint,
    format_error,
    negotiate,
)

HTML = "text/html"

# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "code", "status"),
    [
        (BadUserInput, "BAD_USER_INPUT", 400),
        (Unauthenticated, "UNAUTHENTICATED", 401),
        (Forbidden, "FORBIDDEN", 403),
        (QueryTooComplex, "QUERY_TOO_COMPLEX", 400),
        (UpstreamUnavailable, "UPSTREAM_UNAVAILABLE", 502),
    ],
)
def test_each_gateway_error_has_its_contract_code(
    error_class: type[GatewayError], code: str, status: int
) -> None:
    error = error_class("what went wrong")

    assert isinstance(error, GatewayError)
    assert (error.code, error.http_status, error.message) == (code, status, "what went wrong")
    assert error.extensions() == {"code": code}
    assert error_class().message  # a default message when none is given


def test_upstream_error_keeps_kombos_details() -> None:
    error = UpstreamError(
        "The employees model is not available.",
        code="INTEGRATION.MODEL_NOT_AVAILABLE",
        title="Model not available",
        log_url="https://app.kombo.dev/logs?interactionId=1",
        status=404,
    )

    assert error.extensions() == {
        "code": "INTEGRATION.MODEL_NOT_AVAILABLE",
        "title": "Model not available",
        "logUrl": "https://app.kombo.dev/logs?interactionId=1",
        "status": 404,
    }


def test_upstream_error_without_kombo_code_is_upstream_error() -> None:
    error = UpstreamError("boom", code=None, title=None, log_url=None, status=500)

    assert error.code == "UPSTREAM_ERROR"
    assert error.extensions() == {
        "code": "UPSTREAM_ERROR",
        "title": None,
        "logUrl": None,
        "status": 500,
    }


# --- negotiation -----------------------------------------------------------------------------

OFFERS = (JSON, GRAPHQL_RESPONSE_JSON, HTML)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.9, {JSON}", JSON),
        (f"{JSON};q=0.8, {GRAPHQL_RESPONSE_JSON};charset=utf-8", GRAPHQL_RESPONSE_JSON),
        (f"*/*, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),  # exact beats wildcard
        (f"{JSON}; charset=iso-8859-1, {GRAPHQL_RESPONSE_JSON};q=0.1", GRAPHQL_RESPONSE_JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
        ("TEXT/HTML", HTML),
        ("text/plain", None),
        (f"{JSON};q=0", None),
        (f"*/*;q=0.5, {JSON};q=0", GRAPHQL_RESPONSE_JSON),
        ("garbage, ;;, /", None),
    ],
)
def test_negotiate_picks_the_clients_preferred_offer(accept: str | None, expected: str) -> None:
    assert negotiate(accept, OFFERS) == expected


# --- format_error ----------------------------------------------------------------------------


def _field_error(original: Exception) -> GraphQLError:
    return GraphQLError(str(original), path=["interviews"], original_error=original)


def test_format_error_gives_gateway_errors_their_extensions() -> None:
    error = _field_error(UpstreamError("gone", code=None, title="T", log_url=None, status=503))

    assert format_error(error) == {
        "message": "gone",
        "path": ["interviews"],
        "extensions": {"code": "UPSTREAM_ERROR", "title": "T", "logUrl": None, "status": 503},
    }


def test_format_error_finds_a_gateway_error_behind_graphql_errors() -> None:
    inner = GraphQLError("wrapped", original_error=BadUserInput("first must be positive"))
    error = GraphQLError("wrapped", path=["interviews"], original_error=inner)

    assert format_error(error)["extensions"] == {"code": "BAD_USER_INPUT"}
    assert format_error(error)["message"] == "first must be positive"


def test_format_error_marks_validation_errors_as_bad_user_input() -> None:
    [error] = validate(build_schema("type Query { hello: String }"), parse("{ nope }"))

    formatted = format_error(error)

    assert formatted["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "nope" in formatted["message"]
    assert formatted["locations"] == [{"line": 1, "column": 3}]
    assert "path" not in formatted


def test_format_error_keeps_errors_already_carrying_a_code() -> None:
    error = GraphQLError("shaped", path=["x"], extensions={"code": "FORBIDDEN", "requestId": "r"})

    assert format_error(error)["extensions"] == {"code": "FORBIDDEN", "requestId": "r"}


def test_format_error_masks_everything_else() -> None:
    formatted = format_error(_field_error(KeyError("api_key=secret")))

    assert formatted == {
        "message": "Internal server error.",
        "path": ["interviews"],
        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
    }


# --- the endpoint over a toy schema ----------------------------------------------------------


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
