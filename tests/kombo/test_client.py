"""The Kombo client over httpx.MockTransport: what it sends, and how each answer is mapped."""

from __future__ import annotations

import asyncio
import copy
import json
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.kombo.catalog import CATALOG
from gateway.kombo.client import KomboClient, KomboConfig
from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboMalformedResponse,
    KomboTimeout,
    KomboUnavailable,
)
from gateway.kombo.parsing import parse_page
from gateway.kombo.query import ListQuery, page_params
from gateway.kombo.records import Page
from gateway.kombo.sender import Sender
from tests.support.heap import collector_off
from tests.support.kombo_api import API_KEY, BASE_URL, INTEGRATION, SPEC_EXAMPLE, ZERO_BACKOFF
from tests.support.list_queries import list_queries

INTERVIEWS = CATALOG["Interview"]

# The two error examples of the spec's ErrorResponseATS.
FULL_ERROR = {
    "status": "error",
    "error": {
        "code": "INTEGRATION.MODEL_NOT_AVAILABLE",
        "title": "This data model isn't supported for the selected integration.",
        "message": (
            'The "employees" model is not yet available for Greenhouse. '
            "Please reach out to Kombo if you need this functionality."
        ),
        "log_url": "https://app.kombo.dev/my-prod/logs?interactionId=123456",
    },
}
MINIMAL_ERROR = {
    "status": "error",
    "error": {
        "code": None,
        "title": None,
        "message": "The message is always in the response.",
        "log_url": None,
    },
}

EMPTY_PAGE = {"status": "success", "data": {"next": None, "results": []}}

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """A MockTransport handler that answers with ``response`` and keeps every request."""

    def __init__(self, response: httpx.Response | Handler) -> None:
        self.response = response
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if isinstance(self.response, httpx.Response):
            return self.response
        return self.response(request)


def open_client(handler: Handler, api_key: str = API_KEY) -> KomboClient:
    return KomboClient.open(
        KomboConfig(
            api_key=api_key,
            base_url=BASE_URL,
            transport=httpx.MockTransport(handler),
            retry=ZERO_BACKOFF,
        )
    )


async def list_once(
    handler: Handler,
    query: ListQuery | None = None,
    page_size: int = 100,
    cursor: str | None = None,
) -> Page:
    client = open_client(handler)
    try:
        return await client.list_records(
            INTEGRATION, query or ListQuery.of(INTERVIEWS, {}), page_size=page_size, cursor=cursor
        )
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_sends_bearer_key_integration_and_exact_params_and_parses_the_page() -> None:
    recorder = Recorder(httpx.Response(200, json=SPEC_EXAMPLE))
    query = ListQuery.of(
        INTERVIEWS, {"ids": ("a", "b"), "job_ids": ("J1",), "include_deleted": True}
    )
    page = await list_once(recorder, query, page_size=50, cursor="eyJwYWdlIjoxMn0=")

    assert page == parse_page(INTERVIEWS, copy.deepcopy(SPEC_EXAMPLE))
    [request] = recorder.requests
    assert request.method == "GET"
    assert request.url.scheme == "https"
    assert request.url.host == "api.kombo.dev"
    assert request.url.path == "/v1/ats/interviews"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["X-Integration-Id"] == INTEGRATION
    assert request.url.params.multi_items() == [
        ("include_deleted", "true"),
        ("ignore_unsupported_filters", "false"),
        ("ids", "a,b"),
        ("job_ids", "J1"),
        ("page_size", "50"),
        ("cursor", "eyJwYWdlIjoxMn0="),
    ]


@pytest.mark.anyio
async def test_a_client_over_a_given_async_client_sends_the_integration_header() -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_PAGE))
    client = KomboClient(Sender(httpx.MockTransport(recorder), BASE_URL))
    try:
        page = await client.list_records(INTEGRATION, ListQuery.of(INTERVIEWS, {}), page_size=1)
    finally:
        await client.aclose()
    assert page == Page("/ats/interviews", results=(), next=None)
    [request] = recorder.requests
    assert request.url.path == "/v1/ats/interviews"
    assert request.headers["X-Integration-Id"] == INTEGRATION
    assert "cursor" not in request.url.params


@pytest.mark.anyio
@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
async def test_each_model_is_asked_at_its_own_endpoint(model: Any) -> None:
    recorder = Recorder(httpx.Response(200, json=EMPTY_PAGE))
    page = await list_once(recorder, ListQuery.of(model, {}), page_size=3)
    assert page == Page(model.path, results=(), next=None)
    [request] = recorder.requests
    assert request.url.path == "/v1" + model.path
    assert request.url.params["page_size"] == "3"


@settings(max_examples=100, deadline=None)
@given(
    query=list_queries,
    page_size=st.integers(min_value=1, max_value=250),
    cursor=st.none() | st.text(max_size=200),
)
@example(
    query=ListQuery.of(
        INTERVIEWS,
        {"ids": ("a&b=c", "x+y"), "remote_ids": ("50% off", "é/?#"), "job_ids": (" j ",)},
    ),
    page_size=250,
    cursor="a+b/c==&page_size=1#frag %2C",
)
def test_the_upstream_receives_exactly_page_params(
    query: ListQuery, page_size: int, cursor: str | None
) -> None:
    """Whatever the values (unicode, '&', '=', '+', '%', spaces), they arrive unchanged."""
    recorder = Recorder(httpx.Response(200, json=EMPTY_PAGE))
    asyncio.run(list_once(recorder, query, page_size, cursor))
    [request] = recorder.requests
    assert request.url.path == "/v1" + query.path
    assert request.url.params.multi_items() == list(page_params(query, page_size, cursor).items())


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422, 429, 500, 502, 503])
async def test_full_error_body_becomes_kombo_api_error(status: int) -> None:
    with pytest.raises(KomboAPIError) as caught:
        await list_once(Recorder(httpx.Response(status, json=FULL_ERROR)))
    error = caught.value
    assert error.status == status
    assert error.code == "INTEGRATION.MODEL_NOT_AVAILABLE"
    assert error.title == "This data model isn't supported for the selected integration."
    assert error.message == FULL_ERROR["error"]["message"]  # type: ignore[index]
    assert error.log_url == "https://app.kombo.dev/my-prod/logs?interactionId=123456"


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
async def test_minimal_error_body_with_nulls_becomes_kombo_api_error(status: int) -> None:
    with pytest.raises(KomboAPIError) as caught:
        await list_once(Recorder(httpx.Response(status, json=MINIMAL_ERROR)))
    error = caught.value
    assert error.status == status
    assert error.code is None
    assert error.title is None
    assert error.message == "The message is always in the response."
    assert str(error) == "The message is always in the response."
    assert error.log_url is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"),
        (502, b"<html>Bad Gateway</html>"),
        (500, b""),
        (504, b'{"message": "upstream request timeout"}'),
    ],
)
async def test_server_error_without_error_body_is_unavailable(status: int, body: bytes) -> None:
    response = httpx.Response(status, content=body, headers={"Content-Type": "text/html"})
    with pytest.raises(KomboUnavailable) as caught:
        await list_once(Recorder(response))
    assert not isinstance(caught.value, KomboAPIError)
    assert str(status) in str(caught.value)


@pytest.mark.anyio
async def test_client_error_without_error_body_is_an_api_error_with_its_status() -> None:
    response = httpx.Response(404, content=b"<html>Not Found</html>")
    with pytest.raises(KomboAPIError) as caught:
        await list_once(Recorder(response))
    assert caught.value.status == 404
    assert caught.value.code is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b"<!doctype html><html><body>Kombo</body></html>",
        b"",
        b'{"status": "success", "data": {"next": null, "results": [',
        b"\xff\xfe\x00not utf-8",
    ],
    ids=["html", "empty", "truncated-json", "not-utf8"],
)
async def test_success_status_with_non_json_body_is_malformed(body: bytes) -> None:
    with pytest.raises(KomboMalformedResponse):
        await list_once(Recorder(httpx.Response(200, content=body)))


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [[], {"status": "success"}, {"status": "success", "data": {"next": None, "results": {}}}],
    ids=["list", "no-data", "results-object"],
)
async def test_success_status_with_json_of_the_wrong_shape_is_malformed(body: Any) -> None:
    with pytest.raises(KomboMalformedResponse):
        await list_once(Recorder(httpx.Response(200, content=json.dumps(body).encode())))


def raising(exc_type: type[httpx.TransportError]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"simulated {exc_type.__name__}", request=request)

    return handler


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc_type",
    [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout],
)
async def test_httpx_timeouts_become_kombo_timeout(exc_type: type[httpx.TransportError]) -> None:
    with pytest.raises(KomboTimeout) as caught:
        await list_once(raising(exc_type))
    assert isinstance(caught.value.__cause__, exc_type)
    assert API_KEY not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "exc_type", [httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError]
)
async def test_connect_and_transport_errors_become_kombo_connection_error(
    exc_type: type[httpx.TransportError],
) -> None:
    with pytest.raises(KomboConnectionError) as caught:
        await list_once(raising(exc_type))
    assert not isinstance(caught.value, KomboTimeout)
    assert isinstance(caught.value.__cause__, exc_type)
    assert API_KEY not in str(caught.value)


def test_unavailable_errors_share_one_base() -> None:
    for cls in (KomboTimeout, KomboConnectionError, KomboMalformedResponse):
        assert issubclass(cls, KomboUnavailable)
    assert not issubclass(KomboAPIError, KomboUnavailable)


def test_config_repr_hides_the_api_key() -> None:
    config = KomboConfig(api_key=API_KEY, base_url=BASE_URL)
    assert API_KEY not in repr(config)


@pytest.mark.anyio
async def test_an_answer_is_freed_by_reference_counting_once_read() -> None:
    """An answer (its body, its request) never waits for the collector. (httpx's AsyncClient
    bound a response's stream back to the response, encode/httpx#3733; the sender does not.)"""
    answers: list[weakref.ref[httpx.Response]] = []

    def answer(_request: httpx.Request) -> httpx.Response:
        response = httpx.Response(200, json=SPEC_EXAMPLE)
        answers.append(weakref.ref(response))
        return response

    client = open_client(answer)
    try:
        with collector_off():
            page = await client.list_records(
                INTEGRATION, ListQuery.of(INTERVIEWS, {}), page_size=100
            )
            assert page.results  # the page itself is the caller's
            [read] = answers
            assert read() is None
    finally:
        await client.aclose()
