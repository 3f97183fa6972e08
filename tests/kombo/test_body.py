"""Answers are read within ``max_response_bytes``, after decompression (issue 8, finding 7).

Over httpx.MockTransport with streamed bodies (as the network gives them): an oversized body, a
gzip bomb, a stacked encoding, each stops early, is :class:`KomboMalformedResponse` (too large:
:class:`KomboResponseTooLarge`) and is never retried.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterable

import httpx
import orjson
import pytest

from gateway.config import DEFAULT_UPSTREAM_MAX_BYTES
from gateway.kombo.catalog import CATALOG
from gateway.kombo.client import DEFAULT_MAX_RESPONSE_BYTES, KomboClient, KomboConfig
from gateway.kombo.errors import KomboMalformedResponse, KomboResponseTooLarge
from gateway.kombo.query import ListQuery
from gateway.kombo.records import Page
from tests.support.kombo_api import API_KEY, BASE_URL, INTEGRATION, SPEC_EXAMPLE

LIMIT = 1_048_576
CHUNK = 65_536  # what httpcore reads from a socket at once


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Chunks(httpx.AsyncByteStream):
    """A streamed body, counting how many of its chunks were read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = iter(chunks)
        self.read = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def split(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def padded_page(pad: int) -> bytes:
    """The spec's example page with ``pad`` spaces of JSON whitespace after its results."""
    text = orjson.dumps(SPEC_EXAMPLE)
    return text[:-2] + b" " * pad + text[-2:]


class Upstream:
    """A MockTransport handler answering every request with a fresh streamed body."""

    def __init__(self, body: Iterable[bytes] | None = None, headers: dict[str, str] | None = None):
        self.body = list(body or [])
        self.headers = headers or {}
        self.streams: list[Chunks] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        stream = Chunks(self.body)
        self.streams.append(stream)
        return httpx.Response(200, headers=self.headers, stream=stream)


async def fetch(upstream: Upstream, limit: int = LIMIT) -> Page:
    config = KomboConfig(
        api_key=API_KEY,
        base_url=BASE_URL,
        transport=httpx.MockTransport(upstream),
        max_response_bytes=limit,
    )
    client = KomboClient.open(config)
    try:
        return await client.list_records(
            INTEGRATION, ListQuery.of(CATALOG["Interview"], {}), page_size=10
        )
    finally:
        await client.aclose()


def test_the_settings_default_is_the_clients() -> None:
    assert DEFAULT_UPSTREAM_MAX_BYTES == DEFAULT_MAX_RESPONSE_BYTES == 16 * 1_048_576


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("", lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, a common server bug
    ],
)
async def test_a_page_within_the_bound_is_read_whole_in_each_encoding(
    encoding: str, encode: object
) -> None:
    body = padded_page(LIMIT - len(orjson.dumps(SPEC_EXAMPLE)))  # exactly the limit
    assert len(body) == LIMIT
    upstream = Upstream(split(encode(body)), {"Content-Encoding": encoding})  # type: ignore[operator]
    page = await fetch(upstream)
    assert len(page.results) == 1
    assert upstream.requests[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.anyio
async def test_a_page_one_byte_over_the_bound_is_too_large_and_not_retried() -> None:
    upstream = Upstream(split(padded_page(LIMIT + 1)))
    with pytest.raises(KomboResponseTooLarge, match=f"exceeds {LIMIT} bytes"):
        await fetch(upstream)
    assert len(upstream.requests) == 1, "an oversized answer would be oversized again"


@pytest.mark.anyio
async def test_reading_stops_at_the_bound_and_the_rest_is_never_read() -> None:
    # 64 MiB announced in 1,024 chunks: reading stops after the 17th (1 MiB + one chunk).
    upstream = Upstream([b" " * CHUNK] * 1024)
    with pytest.raises(KomboResponseTooLarge):
        await fetch(upstream)
    assert upstream.streams[0].read == LIMIT // CHUNK + 1
    assert upstream.streams[0].closed


@pytest.mark.anyio
async def test_a_declared_length_over_the_bound_is_refused_before_reading() -> None:
    upstream = Upstream([b"{}"], {"Content-Length": str(LIMIT + 1)})
    with pytest.raises(KomboResponseTooLarge):
        await fetch(upstream)
    assert upstream.streams[0].read == 0


@pytest.mark.anyio
async def test_a_gzip_bomb_stops_within_one_chunk_of_the_bound() -> None:
    # 256 MiB of spaces is ~260 KB of gzip: one 64 KiB chunk of it inflates to ~64 MiB, which
    # httpx's own decoder would produce whole; ours produces at most the bound.
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = compressor.compress(b" " * (256 * 1_048_576)) + compressor.flush()
    upstream = Upstream(split(bomb), {"Content-Encoding": "gzip"})
    with pytest.raises(KomboResponseTooLarge):
        await fetch(upstream)
    assert upstream.streams[0].read == 1
    assert len(upstream.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "zstd", "compress"])
async def test_encodings_never_asked_for_are_malformed(encoding: str) -> None:
    upstream = Upstream([gzip.compress(orjson.dumps(SPEC_EXAMPLE))], {"Content-Encoding": encoding})
    with pytest.raises(KomboMalformedResponse, match="Content-Encoding"):
        await fetch(upstream)
    assert len(upstream.requests) == 1


@pytest.mark.anyio
async def test_a_corrupt_gzip_body_is_malformed() -> None:
    upstream = Upstream([b"\x1f\x8b\x08\x00garbage"], {"Content-Encoding": "gzip"})
    with pytest.raises(KomboMalformedResponse, match="could not be decompressed"):
        await fetch(upstream)
