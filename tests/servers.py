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
from typing import Any

import httpx

from bench.servers import ROOT, Server, free_port, spawn, stop

__all__ = [
    "ROOT",
    "Gateway",
    "Sandbox",
    "Server",
    "free_port",
    "run_server",
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


class Sandbox:
    """The sandbox upstream's test controls: its request log and fault queue."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.api_url = url + "/v1"
        self._http = httpx.Client(base_url=url, timeout=10)

    def clear(self) -> None:
        self._http.delete("/__sandbox/requests").raise_for_status()
        self._http.delete("/__sandbox/faults").raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        response = self._http.get("/__sandbox/requests")
        response.raise_for_status()
        return list(response.json()["requests"])

    def fault(self, **spec: Any) -> None:
        self._http.post("/__sandbox/faults", json=spec).raise_for_status()


class Gateway:
    """A client of a running gateway, as a frontend would use it."""

    def __init__(self, url: str, secrets: tuple[str, ...] = ()) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)
        self.secrets = secrets

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        headers = {"Accept": "application/graphql-response+json", **kwargs.pop("headers", {})}
        response = self.http.post("/graphql", json=body, headers=headers, **kwargs)
        # Every response of the suite is checked: none may ever carry the API key.
        for secret in self.secrets:
            assert secret not in response.text, "a response contains the Kombo API key"
        return response

    def query(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """The response body of a request expected to succeed with no errors."""
        response = self.post(query, variables, **kwargs)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return dict(body["data"])

    def errors(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        """The errors of a request expected to fail (at least partly)."""
        body = self.post(query, variables, **kwargs).json()
        assert body.get("errors"), body
        return list(body["errors"])
