"""A hostile (or broken) Kombo on loopback: huge pages, gzip bombs, trickles, key echoes.

    PYTHONPATH=. python -m bench.hostile.hostile_kombo --port 8200

Answers ``GET /v1/ats/interviews`` (and ``GET /healthz``) with what the ``X-Integration-Id``
header names, so one server serves every kind and a test picks one per request by sending that
header to a gateway with ``GATEWAY_AUTH=none``:

- ``hostile:page-<N>m``: a well-formed success page of about ``N`` MB (250 interviews, each with
  a ``remote_data`` of many small fields), streamed without ever being held whole;
- ``hostile:gzip-bomb-<N>m``: ``Content-Encoding: gzip``, ~1 KB on the wire per MiB, inflating
  to ``N`` MiB of a success page padded with JSON whitespace (compressed once, at first use, or
  at start for the sizes given with ``--bombs``: 1 GiB takes ~10 s);
- ``hostile:trickle``: a success status and headers, then one byte of body every 0.2 s for at
  most two minutes;
- ``hostile:echo-<status>``: Kombo's error body whose ``message``, ``title`` and ``log_url`` repeat
  the ``Authorization`` header it received (the API key), with status 400, 401 or 503 (503 with
  the retryable ``REMOTE.SERVICE_UNAVAILABLE`` code, so the gateway retries until it gives up);
- ``hostile:echo-code``: the same with Kombo's ``code`` holding the key too;
- ``hostile:cursor-<N>k``: a page of one interview whose ``next`` cursor is ``N`` KiB long;
- ``hostile:enums-<round>``: a page of 40,000 interviews, each with an application whose
  ``outcome`` is its own unknown value (``round`` keeps rounds' values distinct).

Every answer closes its connection (no keep-alive, no ``Content-Length``: the body ends at the
close), and nothing here checks the API key. Loopback only, bounded loops, no state but the
cached bomb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import zlib
from collections.abc import AsyncIterator, Iterator

__all__ = ["ENUM_VALUES", "INTERVIEW", "bomb", "main"]

_CHUNK = 1 << 20
ENUM_VALUES = 40_000
"""Distinct unknown ``outcome`` values per ``enums-<round>`` page."""

INTERVIEW = {
    "id": "hostile-interview",
    "remote_id": "1",
    "title": "Interview",
    "starting_at": "2024-01-01T10:00:00.000Z",
    "ending_at": "2024-01-01T11:00:00.000Z",
    "location": None,
    "video_conferencing_url": None,
    "application_id": None,
    "stage_id": None,
    "canceled": False,
    "remote_created_at": None,
    "remote_updated_at": None,
    "changed_at": "2024-01-01T12:00:00.000Z",
    "remote_deleted_at": None,
    "users": [],
    "application": None,
    "remote_data": None,
}
_PAGE_HEAD = b'{"status":"success","data":{"next":null,"results":['
_PAGE_TAIL = b"]}}"
_bomb_cache: dict[int, bytes] = {}


def _interview(number: int, remote_data_bytes: int = 0) -> bytes:
    """One interview as JSON, its ``remote_data`` holding about ``remote_data_bytes`` of small
    fields (what makes a real big page costly to parse: many small objects, not one string)."""
    fields = {
        f"field_{i}": f"value {i} of interview {number}" for i in range(remote_data_bytes // 40)
    }
    record = {**INTERVIEW, "id": f"hostile-{number}", "remote_data": {"/raw": fields}}
    return json.dumps(record, separators=(",", ":")).encode()


def _page(megabytes: int) -> Iterator[bytes]:
    """A success page of 250 interviews, ~``megabytes`` MB in all, in ~1 MB chunks."""
    per_interview = megabytes * 1_000_000 // 250
    template = _interview(0, per_interview)
    yield _PAGE_HEAD
    for number in range(250):
        yield (b"," if number else b"") + template.replace(
            b"hostile-0", f"hostile-{number}".encode()
        )
    yield _PAGE_TAIL


def bomb(megabytes: int) -> bytes:
    """A gzip body inflating to ``megabytes`` MiB: a success page padded with spaces."""
    cached = _bomb_cache.get(megabytes)
    if cached is not None:
        return cached
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    parts = [compressor.compress(_PAGE_HEAD)]
    spaces = b" " * _CHUNK
    for _ in range(megabytes):
        parts.append(compressor.compress(spaces))
    parts.append(compressor.compress(_PAGE_TAIL))
    parts.append(compressor.flush())
    body = b"".join(parts)
    _bomb_cache[megabytes] = body
    return body


def _error(status: int, code: str | None, authorization: str) -> bytes:
    body = {
        "status": "error",
        "error": {
            "code": code,
            "title": f"Rejected {authorization}",
            "message": f"Invalid header Authorization: {authorization}",
            "log_url": f"https://app.kombo.dev/logs?auth={authorization.removeprefix('Bearer ')}",
        },
    }
    return json.dumps(body).encode()


_ECHO_CODES = {401: "PLATFORM.AUTHENTICATION_INVALID", 503: "REMOTE.SERVICE_UNAVAILABLE"}
_STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 503: "Busy"}


async def _answer(
    writer: asyncio.StreamWriter, status: int, body: AsyncIterator[bytes], gzip: bool = False
) -> None:
    head = [f"HTTP/1.1 {status} {_STATUS_TEXT.get(status, 'Status')}", "Connection: close"]
    head.append("Content-Type: application/json")
    if gzip:
        head.append("Content-Encoding: gzip")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
    async for chunk in body:
        writer.write(chunk)
        await writer.drain()


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def _iterate(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _trickle() -> AsyncIterator[bytes]:
    yield _PAGE_HEAD
    for _ in range(600):  # two minutes at most
        await asyncio.sleep(0.2)
        yield b" "


def _enums(round_: str) -> bytes:
    # Only what an interview needs (~110 bytes each: 4.4 MB in all, within any sane bound).
    records = [
        {
            "id": f"hostile-{n}",
            "changed_at": INTERVIEW["changed_at"],
            "application": {"id": "app", "outcome": f"UNKNOWN_{round_}_{n}"},
        }
        for n in range(ENUM_VALUES)
    ]
    return json.dumps({"status": "success", "data": {"next": None, "results": records}}).encode()


def _cursor_page(kibibytes: int) -> bytes:
    data = {"next": "c" * (kibibytes * 1024), "results": [INTERVIEW]}
    return json.dumps({"status": "success", "data": data}).encode()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        kind = headers.get("x-integration-id", "").removeprefix("hostile:")
        authorization = headers.get("authorization", "")
        if path == "/healthz":
            await _answer(writer, 200, _chunks(b'"ok"'))
        elif not path.startswith("/v1/ats/interviews"):
            await _answer(writer, 404, _chunks(b"{}"))
        elif match := re.fullmatch(r"page-(\d+)m", kind):
            await _answer(writer, 200, _iterate(_page(int(match[1]))))
        elif match := re.fullmatch(r"gzip-bomb-(\d+)m", kind):
            body = await asyncio.to_thread(bomb, int(match[1]))
            await _answer(writer, 200, _chunks(body), gzip=True)
        elif kind == "trickle":
            await _answer(writer, 200, _trickle())
        elif match := re.fullmatch(r"echo-(\d+)", kind):
            status = int(match[1])
            code = _ECHO_CODES.get(status, "PLATFORM.INPUT_INVALID")
            await _answer(writer, status, _chunks(_error(status, code, authorization)))
        elif kind == "echo-code":
            code = "PLATFORM." + authorization.removeprefix("Bearer ")
            await _answer(writer, 400, _chunks(_error(400, code, authorization)))
        elif match := re.fullmatch(r"cursor-(\d+)k", kind):
            await _answer(writer, 200, _chunks(_cursor_page(int(match[1]))))
        elif match := re.fullmatch(r"enums-(\w+)", kind):
            await _answer(writer, 200, _chunks(await asyncio.to_thread(_enums, match[1])))
        else:
            await _answer(writer, 404, _chunks(b'{"unknown kind": true}'))
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # the gateway gave up on us: that is the point of most kinds
    finally:
        writer.close()


async def _main(port: int, bombs: list[int]) -> None:
    for megabytes in bombs:
        bomb(megabytes)
    # A request line may carry a long cursor back: a generous line limit (the default is 64 KiB).
    server = await asyncio.start_server(_serve, "127.0.0.1", port, limit=1 << 24)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--bombs", default="", help="MiB sizes of gzip bombs to prepare at start")
    args = parser.parse_args()
    asyncio.run(_main(args.port, [int(n) for n in args.bombs.split(",") if n]))


if __name__ == "__main__":
    main()
