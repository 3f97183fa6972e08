"""GET requests to Kombo's base URL, sent through an httpx transport.

What ``httpx.AsyncClient`` did for the client, without what the client never uses: the client
parses the URL three times per request (base URL, merged parameters, the request's own), runs
the auth and redirect flows and the cookie jar, and wraps the answer's stream: ~0.25 ms of CPU
a request (issue 12). Here a request is the base URL, the path and the encoded parameters joined
once, the fixed headers merged with the call's own, and the per-phase timeouts as httpx's
``timeout`` extension; any ``httpx.AsyncBaseTransport`` carries it: the in-process sandbox's
``httpx.ASGITransport``, a test's ``httpx.MockTransport``. The network's
(:class:`~gateway.kombo.transport.AiohttpTransport`) is handed the URL as text instead: an
``httpx.Request`` would parse it again (~50 µs a request).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

import httpx

from gateway.kombo.transport import AiohttpTransport


class Sender:
    """Sends GET requests for paths under ``base_url`` through ``transport``, which it owns
    (:meth:`aclose` closes it).

    ``timeout``: httpx's per-phase timeouts (``connect``, ``read``, ``write``, ``pool``, in
    seconds) handed to the transport with each request.
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        timeout: Mapping[str, float] | None = None,
    ) -> None:
        self._transport = transport
        self._network = transport if isinstance(transport, AiohttpTransport) else None
        self._base_url = base_url.rstrip("/")
        self._headers = dict(headers or {})
        self._timeout = dict(timeout or {})
        self._extensions = {"timeout": self._timeout} if timeout else {}

    def url(self, path: str, params: Mapping[str, str]) -> str:
        """The URL of ``path`` (absolute, under the base URL) with ``params``, encoded."""
        url = self._base_url + path
        if params:
            url += "?" + urlencode(params, quote_via=quote)
        return url

    async def get(
        self, path: str, params: Mapping[str, str], headers: Mapping[str, str]
    ) -> httpx.Response:
        """The answer, its body still to be read (``aiter_raw``) and the answer closed."""
        url = self.url(path, params)
        headers = {**self._headers, **headers}
        if self._network is not None:
            # The network's transport takes the URL as text: no httpx.Request to build.
            return await self._network.get(url, headers, self._timeout)
        request = httpx.Request("GET", url, headers=headers, extensions=self._extensions)
        response = await self._transport.handle_async_request(request)
        response.request = request
        return response

    async def aclose(self) -> None:
        await self._transport.aclose()
