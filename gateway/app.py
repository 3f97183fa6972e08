"""``create_app(settings)``: routes, middleware and a lifespan owning the one upstream client."""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from gateway import graphiql
from gateway.auth import authenticator_for
from gateway.http import GraphQLEndpoint
from gateway.kombo import Deadline, KomboClient, KomboConfig, RetryPolicy
from gateway.lifecycle import drain
from gateway.persisted import document_policy
from gateway.request_id import set_request_id
from gateway.schema import GatewayContext, build_schema
from gateway.schema.limits import UpstreamBudget
from gateway.settings import SANDBOX_BASE_URL, Settings

log = logging.getLogger("gateway")

SANDBOX_API_KEY = "sandbox-key"

EXAMPLE_QUERY = """\
# Welcome to kombo-gateway. Press the ▶ button (or Ctrl-Enter) to run this query.
# Interviews come from Kombo's GET /ats/interviews; `first`/`after` page through them.
query Interviews($after: String) {
  interviews(first: 5, after: $after) {
    edges {
      cursor
      node {
        id
        title
        startingAt
        canceled
        users { id firstName lastName email }
        application {
          outcome
          candidate { firstName lastName }
          job { id name }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def default_integration(settings: Settings) -> str | None:
    """The integration used when a request names none (the sandbox has a default of its own)."""
    if settings.kombo_integration_id or not settings.sandbox:
        return settings.kombo_integration_id
    from gateway.sandbox.data import INTEGRATIONS

    return INTEGRATIONS[0]


def kombo_config(settings: Settings) -> KomboConfig:
    """The upstream client's configuration: Kombo itself, or the in-process sandbox."""
    t, r = settings.timeouts, settings.resilience
    config = KomboConfig(
        api_key=settings.kombo_api_key or SANDBOX_API_KEY,
        base_url=settings.kombo_base_url,
        connect_timeout=t.connect,
        read_timeout=t.read,
        write_timeout=t.write,
        pool_timeout=t.pool,
        total_timeout=t.total,
        retry=RetryPolicy(
            max_retries=r.retries, base_delay=r.retry_base_delay, max_delay=r.retry_max_delay
        ),
        max_in_flight_per_integration=r.upstream_concurrency,
    )
    if settings.kombo_api_key is not None:
        return config
    from gateway.sandbox.app import create_sandbox_app

    # No API key: the embedded sandbox answers in-process, through the same HTTP client code.
    sandbox = create_sandbox_app(api_key=SANDBOX_API_KEY, faults=settings.sandbox_faults)
    transport = httpx.ASGITransport(app=sandbox)
    return replace(config, base_url=SANDBOX_BASE_URL, transport=transport)


def create_app(settings: Settings) -> Starlette:
    """The gateway as an ASGI app. Nothing happens at import time; the lifespan opens the client."""
    schema = build_schema(settings.limits, fast_path=settings.fast_path)
    if not settings.limits.introspection:
        log.info("introspection is off (GATEWAY_INTROSPECTION=false): GraphiQL has no schema")
    authenticator = authenticator_for(settings, default_integration(settings))
    cursor_key = settings.cursor_key
    request_timeout = settings.resilience.request_timeout
    state: dict[str, KomboClient] = {}
    persisted = document_policy(settings.persisted_queries, schema)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        client = KomboClient.open(kombo_config(settings))
        state["kombo"] = client
        try:
            yield
        finally:
            state.pop("kombo", None)
            await client.aclose()

    async def context_getter(request: Request) -> GatewayContext:
        caller = authenticator.authenticate(request.headers)  # 401/403 stop the request here
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        set_request_id(request_id)  # log lines of this request, the Kombo client's included
        return GatewayContext(
            kombo=state["kombo"],
            cursor_key=cursor_key,
            upstream_budget=UpstreamBudget(settings.limits.upstream_budget),
            integration_id=caller.integration_id,
            request_id=request_id,
            deadline=Deadline.after(request_timeout),
        )

    page = graphiql.render_page("/graphql", EXAMPLE_QUERY)

    def graphiql_page(_request: Request) -> Response:
        return HTMLResponse(
            page, headers={"Content-Security-Policy": graphiql.CONTENT_SECURITY_POLICY}
        )

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(_request: Request) -> Response:
        if drain.draining:
            return PlainTextResponse("draining", status_code=503)
        if "kombo" not in state:
            return PlainTextResponse("starting", status_code=503)
        return PlainTextResponse("ready")

    routes: list[BaseRoute] = [Route("/healthz", healthz), Route("/readyz", readyz)]
    try:
        routes.append(Mount(graphiql.STATIC_MOUNT, app=graphiql.static_files(), name="graphiql"))
    except RuntimeError as exc:
        # An install without the built assets still serves the API; only the IDE is missing.
        log.warning("GraphiQL is off: %s", exc)
        endpoint = GraphQLEndpoint(
            schema, context_getter, max_body_bytes=settings.max_body_bytes, persisted=persisted
        )
    else:
        endpoint = GraphQLEndpoint(
            schema,
            context_getter,
            graphiql=graphiql_page,
            max_body_bytes=settings.max_body_bytes,
            persisted=persisted,
        )
    routes.insert(0, Route("/graphql", endpoint, methods=["GET", "POST"]))
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Authorization", "X-Integration-Id", "X-Request-Id"],
                allow_credentials=False,
            )
        )
    return Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """The app factory each ``serve --workers N`` worker process calls: settings from its env.

    Only the entry points read the environment; the parent process has validated it already.
    """
    import os

    from gateway.logs import install_redaction

    settings = Settings.from_env(os.environ)
    install_redaction(settings.secrets())
    return create_app(settings)
