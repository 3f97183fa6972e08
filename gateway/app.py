"""``create_app(settings)``: routes, middleware and a lifespan owning the one upstream client."""

from __future__ import annotations

import contextlib
import logging
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
from gateway.admission import MemoryAdmission
from gateway.auth import authenticator_for
from gateway.execution import executable_schema
from gateway.http import GraphQLEndpoint
from gateway.kombo import Deadline, KomboClient, KomboConfig, PageCacheConfig, RetryPolicy
from gateway.kombo.observer import KomboObserver, Observers
from gateway.lifecycle import drain
from gateway.logs import Redactor
from gateway.metrics import MetricsObserver, metrics_endpoint
from gateway.persisted import (
    LRUDocumentStore,
    RedisDocumentStore,
    document_policy,
    schema_extensions,
)
from gateway.redis_pages import RedisPageStore
from gateway.request_id import RequestIdMiddleware, current_request_id
from gateway.schema import GatewayContext
from gateway.secret_guard import SecretGuard
from gateway.settings import SANDBOX_BASE_URL, Settings
from gateway.shared_redis import SharedRedis
from gateway.telemetry import RequestTelemetry, UpstreamCallCounter, note_integration
from gateway.tracing import NO_TRACING, Tracing
from gateway.upstream import UpstreamAccess, UpstreamBudget

log = logging.getLogger("gateway")

SANDBOX_API_KEY = "sandbox-key"

EXAMPLE_QUERY = """\
# kombo-gateway: press ▶ (or Ctrl-Enter) to run.
# Next page: set $after to pageInfo.endCursor in
# Variables. Another integration: the Headers tab,
# {"X-Integration-Id": "greenhouse:globex"}.
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
        cache=page_cache_config(settings),
        max_response_bytes=settings.upstream_max_bytes,
    )
    if settings.kombo_api_key is not None:
        return config
    from gateway.sandbox.app import create_sandbox_app

    # No API key: the embedded sandbox answers in-process, through the same HTTP client code.
    sandbox = create_sandbox_app(api_key=SANDBOX_API_KEY, faults=settings.sandbox_faults)
    transport = httpx.ASGITransport(app=sandbox)
    return replace(config, base_url=SANDBOX_BASE_URL, transport=transport)


def page_cache_config(settings: Settings) -> PageCacheConfig | None:
    """The response cache (README "Caching"), or None when ``GATEWAY_CACHE_TTL`` is 0."""
    cache = settings.response_cache
    if not cache.enabled:
        return None
    return PageCacheConfig(cache.ttl, cache.max_entries, cache.max_bytes)


def cache_summary(settings: Settings, redis: SharedRedis | None) -> str | None:
    """One start-up line saying where cached pages and APQ documents live; None when the
    defaults hold (no cache, per-process APQ)."""
    cache = settings.response_cache
    parts = []
    if cache.enabled and redis is not None:
        parts.append(f"response cache: TTL {cache.ttl} s, shared in Redis at {redis.where}")
    elif cache.enabled:
        parts.append(
            f"response cache: TTL {cache.ttl} s, in this process (at most "
            f"{cache.max_entries} pages, {cache.max_bytes // 1_048_576} MiB)"
        )
    apq = settings.persisted_queries
    if redis is not None and apq.apq and apq.trusted_documents is None:
        parts.append(f"APQ documents shared in Redis at {redis.where}")
    return "; ".join(parts) or None


def tracing_for(settings: Settings) -> Tracing:
    """OTLP tracing when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, else none (nothing loaded)."""
    if settings.tracing is None:
        return NO_TRACING
    return Tracing.otlp(settings.tracing.service_name)


def create_app(settings: Settings, *, tracing: Tracing | None = None) -> Starlette:
    """The gateway as an ASGI app. Nothing happens at import time; the lifespan opens the client.

    ``tracing`` replaces the one the settings ask for (tests pass an in-memory exporter's).
    """
    tracing = tracing if tracing is not None else tracing_for(settings)
    observers: list[KomboObserver] = [MetricsObserver(), UpstreamCallCounter()]
    upstream_spans = tracing.observer()
    if upstream_spans is not None:
        observers.append(upstream_spans)
    # One Redis pool per process (no I/O until first used), shared by pages and APQ documents.
    redis = SharedRedis(settings.redis_url) if settings.redis_url else None
    apq_store = None
    if redis is not None:
        apq = settings.persisted_queries
        apq_store = RedisDocumentStore(redis, LRUDocumentStore(apq.cache_size, apq.cache_bytes))
    persisted = document_policy(settings.persisted_queries, apq_store)
    # APQ registers a document once the schema has parsed and validated it, within the limits.
    schema = executable_schema(
        settings.limits,
        fast_path=settings.fast_path,
        extensions=schema_extensions(persisted),
    )
    if not settings.limits.introspection:
        log.info("introspection is off (GATEWAY_INTROSPECTION=false): GraphiQL has no schema")
    authenticator = authenticator_for(settings, default_integration(settings))
    cursor_key = settings.cursor_key
    request_timeout = settings.resilience.request_timeout
    redactor = Redactor(settings.secrets())
    # Per process: what the requests executing at once may hold (README "Sizing memory").
    memory = MemoryAdmission(settings.max_inflight_cost)
    state: dict[str, KomboClient] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        shared_pages = None
        if redis is not None and settings.response_cache.enabled:
            shared_pages = RedisPageStore(redis)
        client = KomboClient.open(kombo_config(settings), page_store=shared_pages)
        client.observer = Observers(observers)  # metrics, log counts and spans of each call
        summary = cache_summary(settings, redis)
        if summary:
            log.info("%s", summary)
        if redis is not None:
            await redis.ping()  # an unreachable Redis is warned about now, not at first query
        state["kombo"] = client
        try:
            yield
        finally:
            state.pop("kombo", None)
            await client.aclose()
            if redis is not None:
                await redis.aclose()
            tracing.shutdown()  # export the spans still pending

    async def context_getter(request: Request) -> GatewayContext:
        caller = authenticator.authenticate(request.headers)  # 401/403 stop the request here
        note_integration(caller.integration_id)
        # RequestIdMiddleware set it, from X-Request-Id or fresh; log lines all carry it.
        request_id = current_request_id()
        upstream = UpstreamAccess(
            kombo=state["kombo"],
            integration_id=caller.integration_id,
            budget=UpstreamBudget(settings.limits.upstream_budget),
            deadline=Deadline.after(request_timeout),
            tracing=tracing,
            redact=redactor,
        )
        return GatewayContext(
            upstream=upstream,
            cursor_key=cursor_key,
            request_id=request_id,
            admission=memory.ticket(),
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

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
    ]
    telemetry = RequestTelemetry(tracing)
    try:
        routes.append(Mount(graphiql.STATIC_MOUNT, app=graphiql.static_files(), name="graphiql"))
    except RuntimeError as exc:
        # An install without the built assets still serves the API; only the IDE is missing.
        log.warning("GraphiQL is off: %s", exc)
        endpoint = GraphQLEndpoint(
            schema,
            context_getter,
            max_body_bytes=settings.max_body_bytes,
            persisted=persisted,
            telemetry=telemetry,
        )
    else:
        endpoint = GraphQLEndpoint(
            schema,
            context_getter,
            graphiql=graphiql_page,
            max_body_bytes=settings.max_body_bytes,
            persisted=persisted,
            telemetry=telemetry,
        )
    routes.insert(0, Route("/graphql", endpoint, methods=["GET", "POST"]))
    # Outermost: every answer carries the request id, the CORS ones included. Then no answer
    # carries a secret (README "Errors": upstream texts are redacted before that).
    middleware = [Middleware(RequestIdMiddleware), Middleware(SecretGuard, redactor=redactor)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Authorization", "X-Integration-Id", "X-Request-Id"],
                expose_headers=["X-Request-Id"],
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
