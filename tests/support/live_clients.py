"""npm's graphql-ws and graphql-sse clients as processes (``tests/e2e/live/subscribe.mjs``), and
the test gateway with an in-memory feed (:mod:`tests.support.live_gateway`), for the live tests.

A :class:`Subscriber` reads the client's JSON lines as they come; the tests wait on them (and on
the feed's subscriber count) with deadlines, never on sleeps.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.servers import ROOT, spawn, stop
from tests.support.live_gateway import PUBLISH, SUBSCRIBERS
from tests.support.servers import free_port, gateway_env, wait_until_ready

LIVE_CLIENTS = ROOT / "tests" / "e2e" / "live"
Line = dict[str, Any]


class Subscriber:
    """One ``node subscribe.mjs`` process and the lines it printed."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            ["node", "subscribe.mjs", *args],
            cwd=LIVE_CLIENTS,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[Line] = []
        self._queue: queue.Queue[Line | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for text in self.process.stdout:
            self._queue.put(json.loads(text))
        self._queue.put(None)

    def next_line(self, timeout: float = 10) -> Line:
        """The next line the client prints; fails when it exits or says nothing in time."""
        try:
            line = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no line from the client in {timeout}s; got {self.lines}"
            ) from None
        if line is None:
            self._queue.put(None)
            stderr = self.process.stderr.read() if self.process.stderr else ""
            raise AssertionError(f"the client exited; lines {self.lines}; stderr {stderr}")
        self.lines.append(line)
        return line

    def wait_for(self, predicate: Callable[[Line], bool], timeout: float = 10) -> Line:
        """The first line (from now) that ``predicate`` accepts."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(max(0.01, deadline - time.monotonic()))
            if predicate(line):
                return line

    def next_result(self, timeout: float = 10) -> Line:
        """The next ``next`` payload; fails on any other line (but ``connected``)."""
        line = self.wait_for(lambda line: line["event"] != "connected", timeout)
        assert line["event"] == "next", line
        return dict(line["payload"])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


class LiveGateway:
    """A running test gateway: its URL and the controls of its in-memory feed."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url = url
        self.process = process
        self.log = log
        self.http = httpx.Client(base_url=url, timeout=10)
        self._subscribers: list[Subscriber] = []

    def publish(
        self, integration_id: str, model: str, record: Mapping[str, Any], repeat: int = 1
    ) -> int:
        body = {"integration_id": integration_id, "model": model, "record": record}
        response = self.http.post(PUBLISH, json={**body, "repeat": repeat})
        response.raise_for_status()
        return int(response.json()["reached"])

    def subscriber_count(self) -> int:
        response = self.http.get(SUBSCRIBERS)
        response.raise_for_status()
        return int(response.json()["count"])

    def wait_for_subscribers(self, count: int, timeout: float = 10) -> None:
        """Until the feed holds exactly ``count`` subscriptions."""
        deadline = time.monotonic() + timeout
        while (seen := self.subscriber_count()) != count:
            assert time.monotonic() < deadline, f"{seen} subscribers, expected {count}"
            time.sleep(0.02)

    def subscribe(
        self,
        query: str,
        *,
        transport: str = "ws",
        params: Mapping[str, Any] | None = None,
        variables: Mapping[str, Any] | None = None,
        count: int = 1,
        connect_only: bool = False,
    ) -> Subscriber:
        """Start a client (closed when the gateway fixture ends)."""
        args = [
            "--transport",
            transport,
            "--url",
            self.url,
            "--query",
            query,
            "--params",
            json.dumps(dict(params or {})),
            "--variables",
            json.dumps(dict(variables or {})),
            "--count",
            str(count),
        ]
        if connect_only:
            args.append("--connect-only")
        subscriber = Subscriber(args)
        self._subscribers.append(subscriber)
        return subscriber

    def close_clients(self) -> None:
        for subscriber in self._subscribers:
            subscriber.close()
        self._subscribers.clear()


@contextmanager
def live_gateway(sandbox_url: str, log: Path, **extra: str) -> Iterator[LiveGateway]:
    """``python -m tests.support.live_gateway`` on a free port, reading the sandbox at
    ``sandbox_url``; stopped (SIGTERM) afterwards."""
    port = free_port()
    env = gateway_env(sandbox_url, port, **extra)
    process = spawn(["tests.support.live_gateway"], env, log)
    url = f"http://127.0.0.1:{port}"
    gateway = LiveGateway(url, process, log)
    try:
        wait_until_ready(process, url + "/readyz", log)
        yield gateway
    finally:
        gateway.close_clients()
        stop(process)
        gateway.http.close()
