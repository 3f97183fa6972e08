"""Session fixtures: the sandbox upstream and the gateway as real processes on loopback.

``gateway_url`` is a gateway with an API key, pointed at a sandbox server that requires that key
(as production points at Kombo). ``sandbox_mode_gateway_url`` is ``make run``'s gateway: no key,
the sandbox in-process.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.sandbox.data import INTEGRATIONS
from tests.servers import Gateway, Sandbox, free_port, run_server

# A distinctive secret: tests scan responses (and logs) for it.
API_KEY = "kombo-test-key-" + secrets.token_hex(12)
DEFAULT_INTEGRATION = INTEGRATIONS[0]


def gateway_env(sandbox_url: str, port: int, **extra: str) -> dict[str, str]:
    """A gateway's environment: on 127.0.0.1:``port``, reading the sandbox at ``sandbox_url``
    with the test API key (as production reads Kombo) for ``DEFAULT_INTEGRATION``; ``extra``
    adds variables or overrides these."""
    return {
        "KOMBO_API_KEY": API_KEY,
        "KOMBO_BASE_URL": sandbox_url + "/v1",
        "KOMBO_INTEGRATION_ID": DEFAULT_INTEGRATION,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        **extra,
    }


@contextmanager
def serve_gateway(sandbox_url: str, log: Path, *args: str, **extra: str) -> Iterator[str]:
    """``python -m gateway serve ARGS`` on a free port, with ``gateway_env(sandbox_url, port,
    **extra)`` and its output in ``log``: its base URL once ``/readyz`` answers; stopped after."""
    port = free_port()
    env = gateway_env(sandbox_url, port, **extra)
    with run_server(["serve", *args], env, "/readyz", port, log) as url:
        yield url


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


def _check_response(request: httpx.Request, response: httpx.Response) -> None:
    if not request.url.path.startswith("/__sandbox/"):
        assert API_KEY not in response.text, f"{request.url} answered with the API key"


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_response() -> Iterator[None]:
    """Every HTTP response any test reads from a server of ours is free of the API key.

    Wraps httpx's clients, sync and async, which every end-to-end test uses; the sandbox's own
    test controls (``/__sandbox/...``) are not the gateway's answers and are left out. Streamed
    responses are not read here.
    """
    sync_send = httpx.Client.send
    async_send = httpx.AsyncClient.send

    def checked_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _check_response(request, response)
        return response

    async def checked_async_send(
        self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any
    ) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _check_response(request, response)
        return response

    httpx.Client.send = checked_send  # type: ignore[method-assign]
    httpx.AsyncClient.send = checked_async_send  # type: ignore[method-assign]
    try:
        yield
    finally:
        httpx.Client.send = sync_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = async_send  # type: ignore[method-assign]


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_server_log(server_logs: Path) -> Iterator[None]:
    """After the whole suite: every log line of every server it started is free of the key."""
    yield
    leaks = [
        f"{log.name}:{number}"
        for log in sorted(server_logs.glob("*.log"))
        for number, line in enumerate(log.read_text(errors="replace").splitlines(), 1)
        if API_KEY in line
    ]
    assert not leaks, f"the API key appears in server logs at {leaks}"


@pytest.fixture(scope="session")
def sandbox_url(server_logs: Path) -> Iterator[str]:
    port = free_port()
    with run_server(
        ["sandbox", "--port", str(port), "--api-key", API_KEY],
        {},
        "/healthz",
        port,
        server_logs / "sandbox.log",
    ) as url:
        yield url


@pytest.fixture(scope="session")
def gateway_url(sandbox_url: str, server_logs: Path) -> Iterator[str]:
    with serve_gateway(sandbox_url, server_logs / "gateway.log") as url:
        yield url


@pytest.fixture(scope="session")
def sandbox_mode_gateway_url(server_logs: Path) -> Iterator[str]:
    port = free_port()
    env = {"KOMBO_API_KEY": "", "PORT": str(port), "HOST": "127.0.0.1"}
    with run_server(
        ["serve"], env, "/readyz", port, server_logs / "gateway-sandbox-mode.log"
    ) as url:
        yield url


@pytest.fixture(scope="session")
def gateway(gateway_url: str) -> Gateway:
    return Gateway(gateway_url, secrets=(API_KEY,))


@pytest.fixture
def sandbox(sandbox_url: str) -> Sandbox:
    """The sandbox's controls, with its request log and fault queue cleared for this test."""
    controls = Sandbox(sandbox_url)
    controls.clear()
    return controls
