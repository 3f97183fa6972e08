"""In-process micro-benchmark of issue 12's date-times: parse + answer a 100-interview page.

A 100-interview all-fields page (:func:`bench.selections.all_fields_page`) is fetched once from
the embedded sandbox; then the upstream is a transport replaying that body at once, so the time is
the gateway's own: ``parse_page`` of the body alone, and whole requests through the fast-path
schema (parse, fast path, no HTTP server), each with a distinct ``updatedAfter`` (no cache is on).
Prints medians in microseconds. Run it against another checkout with ``PYTHONPATH``::

    PYTHONPATH=$PWD .venv/bin/python -m bench.dates_micro
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from typing import Any

import httpx
import orjson

from bench.selections import all_fields_page
from gateway.config import QueryLimits
from gateway.execution import executable_schema
from gateway.kombo import KomboClient, KomboConfig
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_page
from gateway.sandbox import ALL_INTEGRATIONS
from gateway.sandbox.app import create_sandbox_app
from gateway.schema import GatewayContext
from gateway.upstream import UpstreamAccess
from gateway.upstream.budget import UpstreamBudget

try:  # issue 12's normalized date-times (absent from older checkouts)
    from gateway.kombo.instants import clear_cache
except ImportError:  # pragma: no cover
    clear_cache = None  # type: ignore[assignment]

API_KEY = "dates-micro-key"
BASE_URL = "http://sandbox.test/v1"
INTERVIEW = CATALOG["Interview"]
LIMITS = QueryLimits(
    max_depth=30,
    max_aliases=1000,
    max_tokens=100_000,
    max_cost=1_000_000,
    max_estimated_calls=1000,
    upstream_budget=1000,
)


async def fetch_body(integration: str) -> bytes:
    transport = httpx.ASGITransport(app=create_sandbox_app())
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        response = await http.get(
            BASE_URL + "/ats/interviews",
            params={"page_size": 100},
            headers={"Authorization": f"Bearer {API_KEY}", "X-Integration-Id": integration},
        )
        response.raise_for_status()
        return response.content


def median_us(samples: list[float]) -> float:
    """The median (and the minimum, printed: the machine may be shared) in microseconds."""
    print(f"  ({len(samples)} runs, min {min(samples) * 1e6:.1f} us)")
    return statistics.median(samples) * 1e6


def bench_parse(body: bytes, rounds: int, cold: bool = False) -> float:
    decoded = orjson.loads(body)
    samples = []
    for _ in range(rounds):
        if cold:
            clear_cache()
        start = time.perf_counter()
        parse_page(INTERVIEW, decoded)
        samples.append(time.perf_counter() - start)
    return median_us(samples)


async def bench_requests(body: bytes, integration: str, rounds: int) -> tuple[float, Any]:
    schema = executable_schema(LIMITS, fast_path=True)
    document = all_fields_page(INTERVIEW)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=body, headers={"Content-Type": "application/json"}
        )
    )
    client = KomboClient.open(KomboConfig(API_KEY, BASE_URL, transport=transport))
    samples = []
    result = None
    try:
        for index in range(rounds):
            context = GatewayContext(
                upstream=UpstreamAccess(
                    kombo=client, integration_id=integration, budget=UpstreamBudget(1000)
                ),
                cursor_key=b"dates-micro-cursor-key-32-bytes!",
                request_id=f"request-{index}",
            )
            variables = {
                "first": 100,
                "filter": {"updatedAfter": f"2020-01-01T00:00:{index % 60:02d}.{index:06d}Z"},
            }
            start = time.perf_counter()
            result = await schema.execute(
                document, variable_values=variables, context_value=context
            )
            orjson.dumps({"data": result.data})
            samples.append(time.perf_counter() - start)
    finally:
        await client.aclose()
    assert result is not None and not result.errors, result and result.errors
    return median_us(samples), result.data


def main() -> None:
    integration = ALL_INTEGRATIONS[0]
    body = asyncio.run(fetch_body(integration))
    results = orjson.loads(body)["data"]["results"]
    gc.collect()
    gc.freeze()
    parse = bench_parse(body, 2000)
    if clear_cache is not None:
        print(
            "parse_page, date cache cleared each time median"
            f" {bench_parse(body, 500, cold=True):8.1f} us"
        )
    request, data = asyncio.run(bench_requests(body, integration, 600))
    answer = orjson.dumps(data)
    print(f"body {len(body)} bytes, {len(results)} interviews, answer {len(answer)} bytes")
    print(f"parse_page (100 interviews)        median {parse:8.1f} us")
    print(f"request (parse + fast path + dumps) median {request:8.1f} us")


if __name__ == "__main__":
    main()
