"""Secret scanning as a test invariant: the test API key, and the checks that no response and no
server log line ever carries it (the README's "Security" promises)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

# A distinctive secret: tests scan responses (and logs) for it.
API_KEY = "kombo-test-key-" + secrets.token_hex(12)


def check_response(request: httpx.Request, response: httpx.Response) -> None:
    """Fail if ``response`` carries the API key; the sandbox's own test controls
    (``/__sandbox/...``) are not the gateway's answers and are left out."""
    if not request.url.path.startswith("/__sandbox/"):
        assert API_KEY not in response.text, f"{request.url} answered with the API key"


@contextmanager
def every_response_checked() -> Iterator[None]:
    """While open, every response read through httpx's clients, sync and async, goes through
    :func:`check_response` (streamed responses are not read here)."""
    sync_send = httpx.Client.send
    async_send = httpx.AsyncClient.send

    def checked_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_response(request, response)
        return response

    async def checked_async_send(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            check_response(request, response)
        return response

    httpx.Client.send = checked_send  # type: ignore[method-assign]
    httpx.AsyncClient.send = checked_async_send  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.Client.send = sync_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]


def leaks_in_logs(logs: Path) -> list[str]:
    """``file:line`` of every line of the ``*.log`` files in ``logs`` that carries the API key."""
    return [
        f"{log.name}:{number}"
        for log in sorted(logs.glob("*.log"))
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1)
        if API_KEY in line
    ]
