"""The network under the Kombo client: aiohttp's HTTP/1.1 connection pool behind httpx's API.

httpx's own transport (httpcore over anyio) spends ~1.5 ms of CPU fetching one 141 KB page of
100 interviews; aiohttp's C parser and buffers read the same page for ~0.35 ms
(``bench/README.md``, issue 12): a fifth of what a whole GraphQL request costs the gateway. The
client keeps httpx's request and response objects, its ``MockTransport`` and ``ASGITransport``
for tests and the in-process sandbox, and what it builds on them (the bounded streaming read of
:mod:`gateway.kombo.body`, the error mapping of :mod:`gateway.kombo.client`); this module only
moves the bytes, and answers with httpx's exceptions:

- a connection that cannot be made is :class:`httpx.ConnectError`, one that cannot be made in
  time :class:`httpx.ConnectTimeout`;
- no answer (or no next chunk of the body) within the read timeout is :class:`httpx.ReadTimeout`;
- a connection reset or closed mid-answer is :class:`httpx.ReadError`; an answer that is not
  HTTP, or a body cut short of its length, :class:`httpx.RemoteProtocolError`.

What it leaves as it was: the URL is sent as httpx encoded it (``yarl`` is told not to requote
Kombo's opaque cursors); nothing is decompressed here (``body.py`` inflates within its bound);
no cookies are kept; redirects are not followed; TLS is verified with httpx's own default
context; a proxy comes from the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``, read
as the standard library reads them) once per host, not per request as aiohttp's ``trust_env``
does (two trips to a thread per request: its netrc and proxy lookups).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from urllib.request import getproxies, proxy_bypass

import aiohttp
import httpx
from multidict import CIMultiDict
from yarl import URL

CHUNK_BYTES = 65_536
"""The most one read of an answer's body hands over (as httpcore reads)."""


RequestFor = Callable[[], httpx.Request]
"""The httpx request an error names: built only when there is an error to raise."""


@contextmanager
def _as_httpx_errors(request_for: RequestFor, *, reading: bool) -> Iterator[None]:
    """aiohttp's exceptions, raised inside, as the httpx exceptions the client maps.

    ``reading``: the answer's head has arrived; a timeout is then the read timeout's, and a
    closed connection a read error whatever aiohttp calls it.
    """
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        message = str(exc) or "connect timed out"
        raise httpx.ConnectTimeout(message, request=request_for()) from exc
    except aiohttp.ServerTimeoutError as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out", request=request_for()) from exc
    except aiohttp.ClientConnectorError as exc:
        raise httpx.ConnectError(str(exc), request=request_for()) from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request_for()) from exc
    except aiohttp.ServerDisconnectedError as exc:
        if reading:
            raise httpx.ReadError(str(exc), request=request_for()) from exc
        raise httpx.RemoteProtocolError(str(exc), request=request_for()) from exc
    except (aiohttp.ClientConnectionError, OSError) as exc:
        message = str(exc) or type(exc).__name__
        raise httpx.ReadError(message, request=request_for()) from exc
    except aiohttp.ClientError as exc:
        raise httpx.RemoteProtocolError(str(exc), request=request_for()) from exc


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives, in chunks of at most :data:`CHUNK_BYTES`."""

    def __init__(self, response: aiohttp.ClientResponse, request_for: RequestFor) -> None:
        self._response = response
        self._request_for = request_for

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        with _as_httpx_errors(self._request_for, reading=True):
            while chunk := await content.read(CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        # Read to its end, the answer has already given its connection back to the pool; unread,
        # closing it drops the connection (what is left of the body is never read).
        self._response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one ``aiohttp.ClientSession``, opened on the first request (in
    the event loop that serves it) and closed by :meth:`aclose`.

    ``max_connections``: the pool's bound (httpx's ``Limits.max_connections``); idle connections
    are kept ``keepalive_expiry`` seconds.
    """

    def __init__(self, *, max_connections: int = 100, keepalive_expiry: float = 5.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], URL | None] = {}
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def _proxy(self, url: URL) -> URL | None:
        """The environment's proxy for ``url``'s scheme and host, if any (read once per host)."""
        key = (url.scheme, url.host or "")
        if key not in self._proxies:
            proxy = getproxies().get(url.scheme)
            bypass = not url.host or proxy_bypass(url.host)
            self._proxies[key] = URL(proxy) if proxy and not bypass else None
        return self._proxies[key]

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=self._keepalive_expiry,
            ssl=httpx.create_ssl_context(),
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent"),
        )

    async def get(
        self, url: str, headers: Mapping[str, str], timeout: Mapping[str, float]
    ) -> httpx.Response:
        """GET ``url`` (encoded) with ``headers`` and httpx's per-phase ``timeout``: what
        :meth:`handle_async_request` does for an httpx request, without one to build (parsing
        its URL alone costs ~50 µs; issue 12)."""
        return await self._send(
            "GET", url, headers, None, timeout, lambda: httpx.Request("GET", url)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        headers = CIMultiDict(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        timeout = request.extensions.get("timeout", {})
        return await self._send(
            request.method, str(request.url), headers, body or None, timeout, lambda: request
        )

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: Mapping[str, float],
        request_for: RequestFor,
    ) -> httpx.Response:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open()
        target = URL(url, encoded=True)
        with _as_httpx_errors(request_for, reading=False):
            response = await session.request(
                method,
                target,
                proxy=self._proxy(target),
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=self._timeout(timeout),
            )
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request_for),
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    def _timeout(self, timeout: Mapping[str, float]) -> aiohttp.ClientTimeout:
        """httpx's per-phase timeouts as aiohttp's (made once per distinct set). ``write`` has
        no counterpart: a GET's head is one small write, and the client's per-attempt total
        bounds it."""
        connect, pool, read = timeout.get("connect"), timeout.get("pool"), timeout.get("read")
        key = (connect, pool, read)
        made = self._timeouts.get(key)
        if made is None:
            made = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None,
                # aiohttp's ``connect`` covers waiting for a pooled connection and making one.
                connect=None if connect is None or pool is None else connect + pool,
                sock_connect=connect,
                sock_read=read,
            )
        return made

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
