"""Probe: hostile HTTP connections against a real gateway (issue 8, findings 2 and 3).

    PYTHONPATH=. python -m bench.hostile.connections [--idle 1200] [--trickle-seconds 40]

Starts ``python -m gateway serve`` (embedded sandbox, loopback, a free port) and runs, one after
another, each bounded in time:

1. **long URL**: one request line of ``--url-mib`` (8) MiB: RSS growth and the answer.
2. **header flood**: ``--flood-connections`` (8) connections each send a request head whose one
   header never ends, up to ``--flood-mib`` (64) MiB each: the gateway's RSS before, its peak
   during, and after the connections are gone; how many bytes each could send before the gateway
   closed it, and what it answered.
3. **idle connections**: ``--idle`` connections that send nothing, held open, while ``/healthz``
   is asked five times (5 s timeout each): its latency or failure, and how many of the idle ones
   the gateway has closed meanwhile. The gateway is started with a soft ``RLIMIT_NOFILE`` of
   ``--nofile`` (1024): the probe itself cannot open more sockets than this machine's limit, so
   the descriptor exhaustion of the issue (21,000 connections for 20,000 descriptors) is
   reproduced at a smaller scale (a process may raise its soft limit to the hard one, which
   stays this machine's).
4. **trickling**: ``--trickle`` header tricklers (one byte of head a second) and as many body
   tricklers (a complete head announcing 100,000 bytes of body, then one byte a second), for at
   most ``--trickle-seconds``: how long the gateway kept them open.

Extra gateway variables: ``--env NAME=VALUE`` (repeatable), e.g. ``--env
GATEWAY_MAX_CONNECTIONS=500``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx

from bench.procfs import PeakRss, cpu_seconds
from bench.servers import Server, free_port, run_server

MIB = 1_048_576
CHUNK = 256 * 1024


def _vm(pid: int, key: str) -> float:
    """``VmRSS``/``VmHWM`` of ``pid`` in MiB (0 if gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


@contextlib.contextmanager
def _started_with_soft_nofile(
    limit: int, env: dict[str, str], port: int, log: Path
) -> Iterator[Server]:
    """The gateway, started while this process's soft descriptor limit is ``limit`` (children
    inherit it); this process's own limit is restored as soon as the gateway is up."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.ExitStack() as stack:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))
        try:
            server = stack.enter_context(
                run_server("gateway", ["gateway", "serve"], env, "/readyz", port, log)
            )
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        yield server


def healthz_ms(url: str, timeout: float = 5.0) -> float | None:
    """Milliseconds ``/healthz`` took to answer 200, or None if it did not within ``timeout``."""
    started = time.perf_counter()
    try:
        response = httpx.get(url + "/healthz", timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    return (time.perf_counter() - started) * 1000


def _fmt_ms(values: Sequence[float | None]) -> str:
    return ", ".join("FAILED" if v is None else f"{v:.1f}" for v in values)


async def _read_answer(reader: asyncio.StreamReader, timeout: float) -> str:
    """The status line the gateway sent, 'EOF' if it closed without one, 'reset', or 'open'."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        return "open"
    except ConnectionError:
        return "reset"
    return line.decode(errors="replace").strip() or "EOF"


async def _flood_one(port: int, head: bytes, total: int, deadline: float) -> tuple[int, str]:
    """Send ``head`` then ``total`` bytes of ``a`` (or until closed); bytes sent and the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    chunk = b"a" * CHUNK
    try:
        writer.write(head)
        while sent < total and time.monotonic() < deadline:
            writer.write(chunk)
            await writer.drain()
            sent += CHUNK
        answer = await _read_answer(reader, 5)
    except ConnectionError:
        answer = "reset while sending"
        # What the gateway managed to answer before it closed, if anything.
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            line = await asyncio.wait_for(reader.readline(), 1)
            if line:
                answer += f" (answered {line.decode(errors='replace').strip()!r})"
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return sent, answer


def header_flood(server: Server, port: int, connections: int, mib: int) -> None:
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Flood: "
    before = _vm(server.pid, "VmRSS")
    cpu = cpu_seconds(server.pid)
    started = time.monotonic()

    async def flood() -> list[tuple[int, str]]:
        deadline = time.monotonic() + 180
        return await asyncio.gather(
            *(_flood_one(port, head, mib * MIB, deadline) for _ in range(connections))
        )

    with PeakRss(server.pid) as peak:
        results = asyncio.run(flood())
    elapsed = time.monotonic() - started
    answered = healthz_ms(server.url)
    after = _vm(server.pid, "VmRSS")
    print(f"2. header flood: {connections} connections x {mib} MiB of one header")
    print(f"   RSS before {before:.0f} MiB, peak {peak.peak_mib:.0f} MiB, after {after:.0f} MiB")
    print(f"   gateway CPU {cpu_seconds(server.pid) - cpu:.2f} s, wall {elapsed:.1f} s")
    for sent, answer in sorted(set(results)):
        count = results.count((sent, answer))
        print(f"   {count} connection(s): sent {sent / MIB:.2f} MiB, then {answer}")
    print(f"   /healthz afterwards: {_fmt_ms([answered])} ms")


def long_url(server: Server, port: int, mib: int) -> None:
    line = b"GET /" + b"a" * (mib * MIB) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    before = _vm(server.pid, "VmRSS")

    async def send() -> tuple[int, str]:
        return await _flood_one(port, line, 0, time.monotonic() + 60)

    with PeakRss(server.pid) as peak:
        _sent, answer = asyncio.run(send())
    after = _vm(server.pid, "VmRSS")
    print(f"1. long URL: one request line of {mib} MiB")
    print(
        f"   RSS before {before:.0f} MiB, peak {peak.peak_mib:.0f} MiB "
        f"(+{peak.peak_mib - before:.0f}), after {after:.0f} MiB; answer: {answer}"
    )


async def _is_closed(reader: asyncio.StreamReader) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(1), 0.001)
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return data == b"" or reader.at_eof()


def idle_connections(server: Server, port: int, count: int) -> None:
    async def hold() -> tuple[int, int, list[float | None]]:
        streams: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        refused = 0
        for _ in range(count):
            try:
                streams.append(await asyncio.open_connection("127.0.0.1", port))
            except OSError:
                refused += 1
        latencies = [await asyncio.to_thread(healthz_ms, server.url) for _ in range(5)]
        closed = sum([await _is_closed(reader) for reader, _ in streams])
        for _, writer in streams:
            writer.close()
        return refused, closed, latencies

    fds_before = _open_fds(server.pid)
    refused, closed, latencies = asyncio.run(hold())
    print(f"3. idle connections: {count} held open, sending nothing")
    print(f"   gateway descriptors before: {fds_before}; connects refused: {refused}")
    print(f"   /healthz meanwhile (ms): {_fmt_ms(latencies)}")
    print(f"   idle connections closed by the gateway by then: {closed}")


async def _trickle(port: int, head: bytes, body: bool, limit: float) -> float | None:
    """Seconds until the gateway closed a trickling connection, or None if it never did."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    try:
        if body:
            writer.write(head)
        # A header trickler sends its head a byte at a time, then a header value that never ends.
        stream = itertools.chain(() if body else (bytes([b]) for b in head), itertools.repeat(b"x"))
        while time.monotonic() - started < limit:
            writer.write(next(stream))
            await writer.drain()
            try:
                data = await asyncio.wait_for(reader.read(4096), 1.0)
            except TimeoutError:
                continue
            if not data or reader.at_eof():
                return time.monotonic() - started
            # An answer (408/431...): the gateway closes right after it.
            rest = await asyncio.wait_for(reader.read(), 5)
            del rest
            return time.monotonic() - started
        return None
    except (ConnectionError, TimeoutError):
        return time.monotonic() - started
    finally:
        writer.close()


def trickling(server: Server, port: int, count: int, limit: float) -> None:
    header_head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
    body_head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n"
    )

    async def run() -> tuple[list[float | None], list[float | None], list[float | None]]:
        headers = [_trickle(port, header_head, False, limit) for _ in range(count)]
        bodies = [_trickle(port, body_head, True, limit) for _ in range(count)]
        everything = asyncio.gather(*headers, *bodies)
        await asyncio.sleep(min(5.0, limit / 2))  # measured mid-probe, while they trickle
        health = [await asyncio.to_thread(healthz_ms, server.url) for _ in range(3)]
        results = await everything
        return list(results[:count]), list(results[count:]), health

    header_times, body_times, health = asyncio.run(run())
    print(f"4. trickling: {count} header and {count} body connections, 1 byte/s, {limit:g} s max")
    for name, times in (("header", header_times), ("body", body_times)):
        closed = [t for t in times if t is not None]
        spread = (
            f"closed after median {statistics.median(closed):.1f} s (max {max(closed):.1f} s)"
            if closed
            else "none closed"
        )
        print(f"   {name} tricklers: {len(closed)}/{count} {spread}; {count - len(closed)} open")
    print(f"   /healthz meanwhile (ms): {_fmt_ms(health)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.hostile.connections", description=__doc__)
    parser.add_argument("--flood-connections", type=int, default=8)
    parser.add_argument("--flood-mib", type=int, default=64)
    parser.add_argument("--url-mib", type=int, default=8)
    parser.add_argument("--idle", type=int, default=1200)
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--trickle", type=int, default=100)
    parser.add_argument("--trickle-seconds", type=float, default=40)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)

    port = free_port()
    env = {"KOMBO_API_KEY": "", "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "warning"}
    env.update(dict(item.split("=", 1) for item in args.env))
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "gateway.log"
        with _started_with_soft_nofile(args.nofile, env, port, log) as server:
            limits = Path(f"/proc/{server.pid}/limits").read_text().splitlines()
            nofile = next(line for line in limits if line.startswith("Max open files"))
            print(f"gateway pid {server.pid}, {' '.join(nofile.split()[3:5])} (soft, hard) fds")
            print(f"extra env: {' '.join(args.env) or '(none)'}")
            long_url(server, port, args.url_mib)
            header_flood(server, port, args.flood_connections, args.flood_mib)
            idle_connections(server, port, args.idle)
            trickling(server, port, args.trickle, args.trickle_seconds)
            peak = _vm(server.pid, "VmHWM")
            print(f"gateway peak RSS over the whole probe (VmHWM): {peak:.0f} MiB")
            server.check_alive()
    return 0


if __name__ == "__main__":
    sys.exit(main())
