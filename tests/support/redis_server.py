"""Redis for the cache tests: Debian's ``redis-server``, started by the tests themselves.

Each server runs on a free loopback port with persistence off (``--save '' --appendonly no``) in
a temporary directory, and is stopped when its fixture ends, so ``.ci/run`` needs nothing but the
binary, which ``make test`` installs (the Makefile's ``redis`` target). If it is missing, these
fixtures fail, never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from tests.support.servers import free_port, stop


@dataclass
class RedisServer:
    """One ``redis-server`` process of the tests, and a plain client to look into it."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        stop(self.process)


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make redis` (Debian's redis-server)")
    return binary


@contextmanager
def run_redis(directory: Path, log: Path, port: int | None = None) -> Iterator[RedisServer]:
    """A ``redis-server`` on 127.0.0.1 (a free port unless given), ready when yielded."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # Persistence off: a cache of the tests' own, gone with the process.
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [redis_server_binary(), *args, "--dir", str(directory)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = RedisServer(port, process, log)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with {process.returncode}:\n{log.read_text()}"
                )
            try:
                if server.client().ping():
                    break
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server not ready after 15 s:\n{log.read_text()}")
            time.sleep(0.02)
        yield server
    finally:
        server.stop()
