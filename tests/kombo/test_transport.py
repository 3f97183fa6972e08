"""The aiohttp transport under the Kombo client, over real sockets on loopback.

Each test serves raw HTTP/1.1 from an asyncio server it scripts (an answer, a stall, a cut, a
reset, bytes that are not HTTP), so what reaches the client is exactly what a broken Kombo or
network could send, and checks what the transport hands back: the bytes as sent, the connection
kept or dropped, and each failure as the httpx exception the client maps to its own errors.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
import httpx
import pytest

from bench.servers import free_port
from gateway.kombo.catalog import CATALOG
from gateway.kombo.client import KomboClient, KomboConfig, Timeouts
from gateway.kombo.errors import KomboConnectionError, KomboTimeout
from gateway.kombo.query import ListQuery
from gateway.kombo.retry import RetryPolicy
from gateway.kombo.sender import Sender
from gateway.kombo.transport import AiohttpTransport, _as_httpx_errors
from tests.support.heap import cyclic_garbage

TIMEOUT = {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}
SHORT_READ = {**TIMEOUT, "read": 0.2}
BODY = b'{"status":"success","data":{"next":null,"results":[]}}'


@dataclass
class Seen:
    """What the scripted server saw: each request's head, connections made and open at most."""

    heads: list[bytes] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0
    open_at_most: int = 0
    closed: asyncio.Event = field(default_factory=asyncio.Event)


Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, Seen], Awaitable[None]]


def answer(body: bytes = BODY, *, headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"{headers}\r\n"
    ).encode() + body


async def read_head(reader: asyncio.StreamReader, seen: Seen) -> bool:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    seen.heads.append(head)
    return True


async def answers_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    while await read_head(reader, seen):
        writer.write(answer())
        await writer.drain()


@asynccontextmanager
async def serving(script: Script) -> AsyncIterator[tuple[str, Seen]]:
    seen = Seen()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        seen.open_now += 1
        seen.open_at_most = max(seen.open_at_most, seen.open_now)
        try:
            await script(reader, writer, seen)
        finally:
            seen.open_now -= 1
            writer.close()
            seen.closed.set()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        server.close()


@asynccontextmanager
async def sender_to(
    url: str, timeout: dict[str, float] = TIMEOUT, max_connections: int = 100
) -> AsyncIterator[Sender]:
    sender = Sender(AiohttpTransport(max_connections=max_connections), url, timeout=timeout)
    try:
        yield sender
    finally:
        await sender.aclose()


async def fetch(sender: Sender, params: dict[str, str] | None = None) -> bytes:
    response = await sender.get("/ats/interviews", params or {}, {"X-Integration-Id": "acme"})
    try:
        return b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()


@pytest.mark.anyio
async def test_answers_are_read_whole_over_one_kept_alive_connection() -> None:
    async with serving(answers_each) as (url, seen), sender_to(url) as sender:
        bodies = [await fetch(sender, {"page_size": str(n)}) for n in (1, 2, 3)]
    assert bodies == [BODY] * 3
    assert seen.connections == 1
    assert [head.split(b"\r\n")[0] for head in seen.heads] == [
        f"GET /v1/ats/interviews?page_size={n} HTTP/1.1".encode() for n in (1, 2, 3)
    ]
    assert b"\r\nX-Integration-Id: acme\r\n" in seen.heads[0]


@pytest.mark.anyio
async def test_the_query_is_sent_as_encoded_without_requoting() -> None:
    # Kombo's cursors are opaque: "+", "/", "=" and a literal "%2F" must arrive as sent.
    cursor = "a+b/c=%2F d"
    async with serving(answers_each) as (url, seen), sender_to(url) as sender:
        await fetch(sender, {"cursor": cursor})
    [head] = seen.heads
    target = head.split(b" ")[1].decode()
    assert target == "/v1/ats/interviews?cursor=a%2Bb%2Fc%3D%252F%20d"
    assert httpx.URL(target).params["cursor"] == cursor


@pytest.mark.anyio
async def test_a_compressed_answer_is_handed_over_as_it_came() -> None:
    # gateway/kombo/body.py inflates it, within the response-size bound.
    packed = gzip.compress(BODY)

    async def gzipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
        while await read_head(reader, seen):
            writer.write(answer(packed, headers="Content-Encoding: gzip\r\n"))

    async with serving(gzipped) as (url, _), sender_to(url) as sender:
        assert await fetch(sender) == packed


@pytest.mark.anyio
async def test_an_answer_closed_unread_drops_its_connection() -> None:
    big = b"x" * 1_000_000

    async def large(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
        while await read_head(reader, seen):
            writer.write(answer(big))
            await writer.drain()

    async with serving(large) as (url, seen), sender_to(url) as sender:
        response = await sender.get("/ats/interviews", {}, {})
        await response.aclose()  # too large to read, say
        await seen.closed.wait()
        assert await fetch(sender) == big
    assert seen.connections == 2


@pytest.mark.anyio
async def test_the_pool_never_opens_more_than_max_connections() -> None:
    release = asyncio.Event()

    async def held(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
        while await read_head(reader, seen):
            if seen.open_now == 2:
                release.set()
            await release.wait()
            writer.write(answer())
            await writer.drain()

    async with serving(held) as (url, seen), sender_to(url, max_connections=2) as sender:
        bodies = await asyncio.gather(*(fetch(sender) for _ in range(6)))
    assert bodies == [BODY] * 6
    assert seen.open_at_most == 2
    assert len(seen.heads) == 6


async def closes_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)


async def answers_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)
    writer.write(b"THIS IS NOT HTTP\r\n\r\n")
    await writer.drain()


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)
    await reader.read()  # until the client gives up and closes


async def cuts_the_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)
    writer.write(answer(BODY)[:-10])
    await writer.drain()


async def stalls_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)
    writer.write(answer(BODY)[:-10])
    await writer.drain()
    await reader.read()


async def resets_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, seen: Seen):
    await read_head(reader, seen)
    writer.write(answer(BODY)[:-10])
    await writer.drain()
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("script", "timeout", "error"),
    [
        (closes_at_once, TIMEOUT, httpx.RemoteProtocolError),
        (answers_garbage, TIMEOUT, httpx.RemoteProtocolError),
        (never_answers, SHORT_READ, httpx.ReadTimeout),
        (cuts_the_body, TIMEOUT, httpx.RemoteProtocolError),
        (stalls_mid_body, SHORT_READ, httpx.ReadTimeout),
        (resets_mid_body, TIMEOUT, (httpx.RemoteProtocolError, httpx.ReadError)),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
async def test_each_broken_answer_is_the_httpx_error_the_client_maps(
    script: Script, timeout: dict[str, float], error: type[Exception]
) -> None:
    async with serving(script) as (url, _), sender_to(url, timeout) as sender:
        with pytest.raises(error):
            await fetch(sender)


@pytest.mark.anyio
async def test_a_refused_connection_is_a_connect_error() -> None:
    async with sender_to(f"http://127.0.0.1:{free_port()}/v1") as sender:
        with pytest.raises(httpx.ConnectError):
            await fetch(sender)


@pytest.mark.parametrize(
    ("raised", "mapped"),
    [
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout),
        (aiohttp.ClientConnectionResetError("reset"), httpx.ReadError),
        (aiohttp.InvalidURL("nowhere"), httpx.RemoteProtocolError),
    ],
    ids=lambda value: type(value).__name__,
)
def test_aiohttp_errors_become_httpx_errors_of_the_same_kind(
    raised: Exception, mapped: type[Exception]
) -> None:
    # Timeouts first: aiohttp's are TimeoutError and ClientConnectionError at once.
    request = httpx.Request("GET", "http://kombo.test/v1/ats/interviews")
    with pytest.raises(mapped) as caught, _as_httpx_errors(lambda: request, reading=False):
        raise raised
    assert caught.value.request is request
    assert caught.value.__cause__ is raised


@pytest.mark.anyio
async def test_a_proxy_from_the_environment_carries_requests_unless_the_host_is_exempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serving(answers_each) as (proxy, via_proxy), serving(answers_each) as (url, direct):
        host = url.split("/")[2]
        monkeypatch.setenv("HTTP_PROXY", proxy.removesuffix("/v1"))
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with sender_to(url) as sender:
            await fetch(sender)
        monkeypatch.setenv("NO_PROXY", host.split(":")[0])
        async with sender_to(url) as sender:
            await fetch(sender)
    [head] = via_proxy.heads
    assert head.startswith(f"GET {url}/ats/interviews HTTP/1.1".encode())
    assert len(direct.heads) == 1


@pytest.mark.anyio
async def test_the_client_over_the_transport_maps_a_stall_and_a_refusal_to_its_errors() -> None:
    no_retry = RetryPolicy(max_retries=0)
    query = ListQuery.of(CATALOG.by_path("/ats/interviews"), {})
    async with serving(never_answers) as (url, _):
        timeouts = Timeouts(read=0.2, total=5.0)
        client = KomboClient.open(KomboConfig("key", url, timeouts=timeouts, retry=no_retry))
        try:
            with pytest.raises(KomboTimeout):
                await client.list_records("acme", query, page_size=1)
        finally:
            await client.aclose()
    client = KomboClient.open(
        KomboConfig("key", f"http://127.0.0.1:{free_port()}/v1", retry=no_retry)
    )
    try:
        with pytest.raises(KomboConnectionError):
            await client.list_records("acme", query, page_size=1)
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_an_answer_leaves_no_cycle_for_the_collector() -> None:
    async with serving(answers_each) as (url, _), sender_to(url) as sender:
        await fetch(sender)  # the session, its connector and the connection exist from here
        with cyclic_garbage() as garbage:
            for n in range(3):
                await fetch(sender, {"page_size": str(n)})
    modules = {type(thing).__module__.split(".")[0] for thing in garbage}
    assert not modules & {"aiohttp", "httpx", "gateway", "yarl", "multidict"}, modules


@pytest.mark.anyio
async def test_as_an_httpx_transport_it_sends_httpx_requests_as_they_are() -> None:
    # What the client does not use but an httpx transport must do: any method, a body, the
    # request's own headers and timeouts.
    client = httpx.AsyncClient(transport=AiohttpTransport(), timeout=2.0)
    async with serving(answers_each) as (url, seen), client:
        response = await client.post(url + "/echo?a=%2F", content=b"{}", headers={"X-A": "b"})
        assert (response.status_code, response.content) == (200, BODY)
    [head] = seen.heads
    assert head.startswith(b"POST /v1/echo?a=%2F HTTP/1.1\r\n")
    assert b"\r\nX-A: b\r\n" in head
    assert b"\r\nContent-Length: 2\r\n" in head.replace(b"content-length", b"Content-Length")
