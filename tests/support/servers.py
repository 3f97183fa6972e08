"""Real servers for the tests: the sandbox upstream and the gateway, each its own process.

Started and stopped as the benchmark's are (``bench.servers``: no pytest there); waiting for one
to be ready is the tests' own, so that a server that dies or never answers fails the test with
its whole log.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.servers import ROOT, Server, free_port, spawn, stop
from gateway.sandbox.data import INTEGRATIONS
from tests.support.secret_scanning import API_KEY

DEFAULT_INTEGRATION = INTEGRATIONS[0]

__all__ = [
    "DEFAULT_INTEGRATION",
    "ROOT",
    "Server",
    "free_port",
    "gateway_env",
    "run_server",
    "serve_gateway",
    "start_server",
    "stop",
    "wait_until_ready",
]


def wait_until_ready(
    process: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 30
) -> None:
    """Poll ``url`` until it answers 200; fail with the server's log if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"server not ready after {timeout}s:\n{log.read_text()}")


@contextmanager
def start_server(
    args: list[str], env: Mapping[str, str], ready_path: str, port: int, log: Path
) -> Iterator[Server]:
    """Start ``python -m gateway ARGS`` and yield it (``.url``, ``.process``) once ``ready_path``
    answers 200; stop it afterwards (SIGTERM, then SIGKILL after 10 s)."""
    process = spawn(["gateway", *args], env, log)
    server = Server(" ".join(["gateway", *args]), process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_ready(process, server.url + ready_path, log)
        yield server
    finally:
        stop(process)


@contextmanager
def run_server(
    args: list[str], env: Mapping[str, str], ready_path: str, port: int, log: Path
) -> Iterator[str]:
    """Start ``python -m gateway ARGS`` and yield its base URL; stop it afterwards."""
    with start_server(args, env, ready_path, port, log) as server:
        yield server.url


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
