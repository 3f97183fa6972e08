"""Fixtures for the sandbox upstream's tests: the app in-process, behind an httpx client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.sandbox import create_sandbox_app
from tests.sandbox.sandbox_calls import API_KEY, HEADERS


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh sandbox app that requires :data:`API_KEY`."""
    transport = httpx.ASGITransport(app=create_sandbox_app(api_key=API_KEY))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=HEADERS
    ) as http:
        yield http
