"""The benchmark's servers: each one its own Python process on loopback, with its own log file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.errors import HarnessError

__all__ = ["Server", "free_port", "run_server", "spawn", "stop"]

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(module_args: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m MODULE_ARGS`` in the repository, with ``env`` over this process's
    environment, its output (stdout and stderr) written to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", *module_args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (uvicorn's graceful shutdown; a supervisor stops its workers), then SIGKILL after
    10 s; nothing if it has already exited."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Server:
    """A running server: its name in reports, process, base URL and log."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for error messages."""
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """Raise :class:`HarnessError`, with the end of its log, if the server has exited."""
        code = self.process.poll()
        if code is not None:
            raise HarnessError(
                f"{self.name} exited with code {code}; its log ends:\n{self.log_tail()}"
            )


def _wait_until_ready(server: Server, ready_path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            if httpx.get(server.url + ready_path, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise HarnessError(
        f"{server.name} not ready after {timeout:g}s; its log ends:\n{server.log_tail()}"
    )


@contextmanager
def run_server(
    name: str,
    module_args: Sequence[str],
    env: Mapping[str, str],
    ready_path: str,
    port: int,
    log: Path,
    timeout: float = 30,
) -> Iterator[Server]:
    """Run ``python -m MODULE_ARGS`` until the block ends; yield it once ``ready_path`` answers 200.

    Stopped with :func:`stop`.
    """
    process = spawn(module_args, env, log)
    server = Server(name, process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_until_ready(server, ready_path, timeout)
        yield server
    finally:
        stop(process)
