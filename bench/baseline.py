"""The baseline: what a user would hand-write instead of the gateway.

    KOMBO_API_KEY=KEY python -m bench.baseline --port 8200 --upstream http://127.0.0.1:8100/v1 \\
        --integration sandbox:acme-corp [--workers N]

A minimal Starlette endpoint, ``GET /<endpoint>?<Kombo's query parameters>`` (``/interviews``,
``/jobs``, ``/applications``…), that fetches the same upstream page of ``GET /ats/<endpoint>`` with
one shared ``httpx.AsyncClient`` and returns its JSON unchanged: decoded with
``response.json()`` and encoded again with Starlette's ``JSONResponse``, as the obvious hand-written
backend-for-frontend does. No validation, no error translation, no paging: the floor the gateway's
own cost is compared with. It runs under the gateway's uvicorn settings (uvloop, httptools, no
access log, the same number of workers) and pools upstream connections as the gateway's Kombo
client does (100 connections, all kept alive).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["app_from_environment", "create_baseline_app"]


def create_baseline_app(
    upstream_url: str,
    api_key: str,
    integration_id: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The baseline app: ``/<endpoint>`` forwards its query string to ``GET /ats/<endpoint>``
    (one route for Kombo's ten endpoints; another name gets Kombo's own answer, a 404).

    ``X-Integration-Id`` is passed on when the request has one, else ``integration_id``.
    ``transport`` replaces the network (tests).
    """
    state: dict[str, httpx.AsyncClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=upstream_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "application/json"},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            timeout=10.0,
            transport=transport,
        ) as client:
            state["client"] = client
            yield

    async def forward(request: Request) -> Response:
        upstream = await state["client"].get(
            "/ats/" + request.path_params["endpoint"],
            params=request.url.query,
            headers={"X-Integration-Id": request.headers.get("x-integration-id", integration_id)},
        )
        return JSONResponse(upstream.json(), status_code=upstream.status_code)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/{endpoint}", forward)], lifespan=lifespan
    )


def app_from_environment() -> Starlette:
    """The factory each worker calls (``--workers N``): settings from ``BENCH_BASELINE_*``."""
    return create_baseline_app(
        os.environ["BENCH_BASELINE_UPSTREAM"],
        os.environ["KOMBO_API_KEY"],
        os.environ["BENCH_BASELINE_INTEGRATION"],
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the baseline under the gateway's uvicorn settings."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="Kombo's base URL, ending in /v1")
    parser.add_argument("--integration", required=True, help="default X-Integration-Id")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if not os.environ.get("KOMBO_API_KEY"):
        parser.error("KOMBO_API_KEY must be set")
    os.environ["BENCH_BASELINE_UPSTREAM"] = args.upstream
    os.environ["BENCH_BASELINE_INTEGRATION"] = args.integration
    uvicorn.run(
        "bench.baseline:app_from_environment",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
