"""The suite-wide guard itself: a response carrying the API key fails the test that read it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.secret_scanning import API_KEY


def test_a_response_containing_the_api_key_is_caught() -> None:
    leaky = httpx.MockTransport(lambda request: httpx.Response(200, text=f"oops {API_KEY}"))
    with httpx.Client(transport=leaky) as client, pytest.raises(AssertionError, match="API key"):
        client.get("http://gateway.test/graphql")


def test_a_clean_response_passes() -> None:
    clean = httpx.MockTransport(lambda request: httpx.Response(200, text="fine"))
    with httpx.Client(transport=clean) as client:
        assert client.get("http://gateway.test/graphql").text == "fine"


def test_an_async_response_containing_the_api_key_is_caught() -> None:
    leaky = httpx.MockTransport(lambda request: httpx.Response(200, text=f"oops {API_KEY}"))

    async def fetch() -> None:
        async with httpx.AsyncClient(transport=leaky) as client:
            await client.get("http://gateway.test/graphql")

    with pytest.raises(AssertionError, match="API key"):
        asyncio.run(fetch())
