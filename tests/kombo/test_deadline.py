"""One upstream call has an overall deadline, beside httpx's per-phase timeouts."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from gateway.kombo import KomboClient, KomboConfig, KomboTimeout, ListQuery, Timeouts
from gateway.kombo.catalog import CATALOG


def test_a_call_slower_than_the_total_timeout_fails_with_kombo_timeout() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200, json={})

    async def call() -> None:
        client = KomboClient.open(
            KomboConfig(
                api_key="k",
                base_url="http://kombo.test/v1",
                timeouts=Timeouts(total=0.2),
                transport=httpx.MockTransport(slow),
            )
        )
        try:
            await client.list_records("x:y", ListQuery.of(CATALOG["Interview"], {}), page_size=10)
        finally:
            await client.aclose()

    started = time.monotonic()
    with pytest.raises(KomboTimeout, match=r"within 0.2s"):
        asyncio.run(call())
    assert time.monotonic() - started < 5
