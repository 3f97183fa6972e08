"""The sandbox app in-process as the Kombo client's upstream, behind a transport that counts the
requests reaching it (what a cache answers never gets there), and the client a gateway with
GATEWAY_REDIS_URL builds over it (README "Caching")."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from gateway.kombo import KomboClient, KomboConfig, PageCacheConfig
from gateway.redis_pages import RedisPageStore
from gateway.sandbox.app import create_sandbox_app
from gateway.sandbox.data import INTEGRATIONS
from gateway.shared_redis import SharedRedis

API_KEY = "sandbox-test-key"
BASE_URL = "http://sandbox.test/v1"
ACME, GLOBEX = INTEGRATIONS[0], INTEGRATIONS[1]


class CountingTransport(httpx.AsyncBaseTransport):
    """Passes requests to ``inner`` (or answers with ``override`` while it is set), keeping
    each one: the upstream's request log."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.override: Callable[[httpx.Request], httpx.Response] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.override is not None:
            return self.override(request)
        return await self.inner.handle_async_request(request)


def counting_sandbox() -> CountingTransport:
    """A fresh sandbox app requiring :data:`API_KEY`, behind a :class:`CountingTransport`."""
    return CountingTransport(httpx.ASGITransport(app=create_sandbox_app(api_key=API_KEY)))


def redis_backed_client(
    upstream: CountingTransport, redis: SharedRedis, ttl: int = 30
) -> KomboClient:
    """The Kombo client as a gateway with GATEWAY_REDIS_URL builds it."""
    config = KomboConfig(
        api_key=API_KEY, base_url=BASE_URL, transport=upstream, cache=PageCacheConfig(ttl)
    )
    return KomboClient.open(config, page_store=RedisPageStore(redis))
