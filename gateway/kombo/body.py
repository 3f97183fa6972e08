"""Reading an answer's body within a size bound, decompressing it as it arrives.

httpx inflates ``Content-Encoding: gzip`` chunk by chunk with no bound on what one chunk becomes
(64 KiB of gzip can hold 64 MiB; stacked encodings multiply that), and ``response.content`` holds
the whole answer. Issue 8 measured a 1 MB gzip body inflating to 1 GB at 3.59 GB peak RSS, and a
256 MB page at 1.92 GB, answered 15.9 s after a 10 s deadline. So the client streams the raw
bytes and inflates them here, never producing more than ``limit`` bytes: a bomb stops within one
network chunk of the bound, whatever its ratio.
"""

from __future__ import annotations

import zlib

import httpx

from gateway.kombo.errors import KomboMalformedResponse, KomboResponseTooLarge

ACCEPT_ENCODING = "gzip, deflate"
"""What the client asks for: the encodings :func:`read_body` can inflate within its bound."""


class _Inflater:
    """zlib's inflater, told how much it may produce per call (``max_length``)."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._inflater = zlib.decompressobj(wbits)
        self._started = False

    def inflate(self, data: bytes, room: int) -> bytes:
        """``data`` inflated, at most ``room + 1`` bytes (more than ``room`` means too large:
        zlib stops at ``max_length`` only when there was more to give)."""
        try:
            out = self._inflater.decompress(data, room + 1)
        except zlib.error:
            if self._started or self._wbits != zlib.MAX_WBITS:
                raise
            # `deflate` is meant to be zlib-wrapped, but some servers send raw deflate.
            self._wbits = -zlib.MAX_WBITS
            self._inflater = zlib.decompressobj(self._wbits)
            out = self._inflater.decompress(data, room + 1)
        self._started = True
        return out

    @property
    def truncated(self) -> bool:
        """Data came, but not the end of the compressed stream."""
        return self._started and not self._inflater.eof


def _inflater(content_encoding: str) -> _Inflater | None:
    """The inflater of a ``Content-Encoding``, ``None`` for identity; malformed for others."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return _Inflater(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return _Inflater(zlib.MAX_WBITS)
    # Stacked encodings ("gzip, gzip") would multiply a bomb's ratio; we never ask for them.
    raise KomboMalformedResponse(f"Kombo answered with Content-Encoding {encoding!r}")


async def read_body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body of a streamed ``response``; :class:`KomboResponseTooLarge` as soon as
    it passes ``limit`` bytes (the rest is never read: the caller closes the response)."""
    if response.is_stream_consumed:
        # Built in memory (an httpx.MockTransport's answer): already read and decoded whole.
        if len(response.content) > limit:
            raise KomboResponseTooLarge(limit)
        return response.content
    inflater = _inflater(response.headers.get("content-encoding", ""))
    declared = response.headers.get("content-length", "")
    if inflater is None and declared.isdigit() and int(declared) > limit:
        raise KomboResponseTooLarge(limit)
    parts: list[bytes] = []
    size = 0
    async for raw in response.aiter_raw():
        if inflater is None:
            chunk = raw
        else:
            try:
                chunk = inflater.inflate(raw, limit - size)
            except zlib.error:
                raise KomboMalformedResponse("Kombo's answer could not be decompressed") from None
        size += len(chunk)
        if size > limit:
            raise KomboResponseTooLarge(limit)
        parts.append(chunk)
    if inflater is not None and inflater.truncated:
        raise KomboMalformedResponse("Kombo's answer could not be decompressed (truncated)")
    return b"".join(parts)
