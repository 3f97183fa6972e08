"""``create_app(settings)``: routes, middleware and a lifespan owning the one upstream client."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from gateway import graphiql
from gateway.admission import MemoryAdmission
from gateway.auth import Caller, authenticator_for
from gateway.config import SANDBOX_BASE_URL, Settings, SettingsError
from gateway.execution import executable_schema
from gateway.http import GraphQLEndpoint
from gateway.http.caching import HttpCaching
from gateway.http.cors import CORS
from gateway.http.live import LiveOperations
from gateway.http.sse import GraphQLEventStream
from gateway.http.webhooks import KomboWebhook
from gateway.http.websocket import GraphQLWebSocket
from gateway.kombo import Deadline, KomboClient, KomboConfig, Page, RetryPolicy
from gateway.kombo.observer import KomboObserver, Observers
from gateway.lifecycle import drain
from gateway.live import Coordinator, LiveFeed
from gateway.live.redis import RedisCoordinator, live_secret
from gateway.observability.metrics import (
    LiveMetrics,
    MetricsObserver,
    metrics_endpoint,
    observe_batch,
)
from gateway.observability.request_id import RequestIdMiddleware, current_request_id
from gateway.observability.telemetry import (
    OperationRecorder,
    RequestTelemetry,
    UpstreamCallCounter,
    note_integration,
)
from gateway.observability.tracing import NO_TRACING, Tracing
from gateway.persisted import (
    LRUDocumentStore,
    RedisDocumentStore,
    TrustedDocuments,
    document_policy,
    load_trusted_documents,
    schema_extensions,
)
from gateway.redaction import Redactor
from gateway.redis_pages import RedisPageStore
from gateway.schema import GatewayContext
from gateway.secret_guard import SecretGuard
from gateway.shared_redis import SharedRedis
from gateway.upstream import UpstreamAccess, UpstreamBudget

if TYPE_CHECKING:
    from gateway.sandbox.webhooks import WebhookTarget

log = logging.getLogger("gateway")

SANDBOX_API_KEY = "sandbox-key"


def default_integration(settings: Settings) -> str | None:
    """The integration used when a request names none (the sandbox has a default of its own)."""
    if settings.kombo_integration_id or not settings.sandbox:
        return settings.kombo_integration_id
    from gateway.sandbox.data import INTEGRATIONS

    return INTEGRATIONS[0]


def kombo_config(settings: Settings) -> KomboConfig:
    """The upstream client's configuration, its parts the settings' own objects: Kombo itself,
    or the in-process sandbox."""
    cache = settings.response_cache
    config = KomboConfig(
        api_key=settings.kombo_api_key or SANDBOX_API_KEY,
        base_url=settings.kombo_base_url,
        timeouts=settings.timeouts,
        retry=RetryPolicy.following(settings.resilience),
        max_in_flight_per_integration=settings.resilience.upstream_concurrency,
        cache=cache if cache.enabled else None,  # README "Caching": GATEWAY_CACHE_TTL=0 is off
        max_response_bytes=settings.upstream_max_bytes,
    )
    if settings.kombo_api_key is not None:
        return config
    from gateway.sandbox.app import create_sandbox_app

    # No API key: the embedded sandbox answers in-process, through the same HTTP client code.
    sandbox = create_sandbox_app(
        api_key=SANDBOX_API_KEY,
        faults=settings.sandbox_faults,
        webhooks=sandbox_webhooks(settings),
        change_every=settings.sandbox_change_every,
    )
    transport = httpx.ASGITransport(app=sandbox)
    return replace(config, base_url=SANDBOX_BASE_URL, transport=transport)


def sandbox_webhooks(settings: Settings) -> WebhookTarget | None:
    """Where the embedded sandbox posts its ``data-changed`` webhooks: this gateway's own
    ``/webhooks/kombo``, signed with ``KOMBO_WEBHOOK_SECRET`` (README "Live changes"); none
    without ``SANDBOX_CHANGE_EVERY``."""
    if not settings.sandbox_change_every:
        return None
    from gateway.sandbox.webhooks import WebhookTarget

    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)
    host = f"[{host}]" if ":" in host else host
    secret = settings.kombo_webhook_secret
    return WebhookTarget(f"http://{host}:{settings.port}/webhooks/kombo", secret)


def embedded_sandbox(config: KomboConfig) -> contextlib.AbstractAsyncContextManager[object]:
    """The embedded sandbox's lifespan (its timer of edits), which ``httpx.ASGITransport``
    does not run; nothing for Kombo itself."""
    transport = config.transport
    if isinstance(transport, httpx.ASGITransport) and isinstance(transport.app, Starlette):
        return transport.app.router.lifespan_context(transport.app)
    return contextlib.nullcontext()


def check_sandbox_faults(settings: Settings) -> None:
    """``SANDBOX_FAULTS`` names scenarios the sandbox knows (README "Trying failures")."""
    if not settings.sandbox_faults:
        return
    from gateway.sandbox.faults import FAULT_SCENARIOS

    unknown = [name for name in settings.sandbox_faults if name not in FAULT_SCENARIOS]
    if unknown:
        raise SettingsError(
            f"SANDBOX_FAULTS: unknown scenario(s) {', '.join(unknown)}; "
            f"known: {', '.join(FAULT_SCENARIOS)}"
        )


def trusted_documents_for(settings: Settings) -> TrustedDocuments | None:
    """The manifest of ``GATEWAY_TRUSTED_DOCUMENTS``, read and every entry checked against the
    schema, so that a bad entry stops the start (a :class:`SettingsError` naming it)."""
    path = settings.persisted_queries.trusted_documents_path
    return load_trusted_documents(path) if path is not None else None


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
    if redis is not None and apq.apq and apq.trusted_documents_path is None:
        parts.append(f"APQ documents shared in Redis at {redis.where}")
    return "; ".join(parts) or None


def tracing_for(settings: Settings) -> Tracing:
    """OTLP tracing when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, else none (nothing loaded)."""
    if settings.tracing is None:
        return NO_TRACING
    return Tracing.otlp(settings.tracing.service_name)


class _LifespanKombo:
    """The lifespan's Kombo client, for the live feed created before it (refreshes run only
    while the lifespan holds the client)."""

    def __init__(self, state: dict[str, KomboClient]) -> None:
        self._state = state

    async def list_records(self, *args: Any, **kwargs: Any) -> Page:
        return await self._state["kombo"].list_records(*args, **kwargs)


def live_feed_for(settings: Settings, state: dict[str, KomboClient]) -> LiveFeed:
    """The process's live feed: refreshes through the lifespan's Kombo client; coordinated
    through Redis when ``GATEWAY_REDIS_URL`` is set, else in this process."""
    coordinator: Coordinator | None = None
    if settings.redis_url:
        secret = live_secret(settings.kombo_base_url, settings.kombo_api_key or SANDBOX_API_KEY)
        coordinator = RedisCoordinator(settings.redis_url, secret)
    live = settings.live
    return LiveFeed(
        _LifespanKombo(state),
        coordinator=coordinator,
        poll_seconds=live.poll_seconds,
        min_refresh_seconds=live.min_refresh_seconds,
        max_subscriptions_per_integration=live.max_subscriptions_per_integration,
        max_subscriptions=live.max_subscriptions,
        queue_size=live.queue_size,
        lease_seconds=live.lease_seconds,
        observer=LiveMetrics(),
    )


def create_app(
    settings: Settings, *, tracing: Tracing | None = None, live: LiveFeed | None = None
) -> Starlette:
    """The gateway as an ASGI app. Nothing happens at import time; the lifespan opens the client.

    ``tracing`` replaces the one the settings ask for (tests pass an in-memory exporter's).
    ``live`` is the change feed ``Subscription.changes`` reads (tests pass an in-memory one);
    the lifespan starts it (``start()``) and closes it (``aclose()``) when it has those.
    Raises :class:`SettingsError` when a setting fails a check that needs the gateway's other
    code: a JWT public key, the trusted-documents manifest, the sandbox's fault names.
    """
    check_sandbox_faults(settings)
    authenticator = authenticator_for(settings, default_integration(settings))
    trusted_documents = trusted_documents_for(settings)
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
    persisted = document_policy(
        settings.persisted_queries, apq_store, trusted_documents=trusted_documents
    )
    # OperationRecorder names each request's log line, metrics and span once its document has
    # validated; APQ registers a document once the schema has parsed and validated it, within
    # the limits.
    schema = executable_schema(
        settings.limits,
        fast_path=settings.fast_path,
        observers=[OperationRecorder],
        extensions=schema_extensions(persisted),
    )
    if not settings.limits.introspection:
        log.info("introspection is off (GATEWAY_INTROSPECTION=false): GraphiQL has no schema")
    cursor_key = settings.cursor_key
    request_timeout = settings.resilience.request_timeout
    redactor = Redactor(settings.secrets())
    # Per process: what the requests executing at once may hold (README "Sizing memory").
    memory = MemoryAdmission(settings.max_inflight_cost)
    state: dict[str, Any] = {}
    live = live if live is not None else live_feed_for(settings, state)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        shared_pages = None
        if redis is not None and settings.response_cache.enabled:
            shared_pages = RedisPageStore(redis)
        config = kombo_config(settings)
        client = KomboClient.open(config, page_store=shared_pages)
        client.observer = Observers(observers)  # metrics, log counts and spans of each call
        summary = cache_summary(settings, redis)
        if summary:
            log.info("%s", summary)
        if redis is not None:
            await redis.ping()  # an unreachable Redis is warned about now, not at first query
        state["kombo"] = client
        await live.start()
        begin_drain = getattr(live, "begin_drain", None)
        if begin_drain is not None:
            drain.on_shutdown.append(begin_drain)
        try:
            async with embedded_sandbox(config):  # SANDBOX_CHANGE_EVERY's edits and webhooks
                yield
        finally:
            if begin_drain is not None and begin_drain in drain.on_shutdown:
                drain.on_shutdown.remove(begin_drain)
            await live.aclose()  # every subscription ended, every refresh lease given back
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
            spans=tracing,
            observe_batch=observe_batch,
            redact=redactor,
        )
        return GatewayContext(
            upstream=upstream,
            cursor_key=cursor_key,
            request_id=request_id,
            admission=memory.ticket(),
            live=live,
        )

    def upstream_for(integration_id: str | None) -> UpstreamAccess:
        return UpstreamAccess(
            kombo=state["kombo"],
            integration_id=integration_id,
            budget=UpstreamBudget(settings.limits.upstream_budget),
            deadline=Deadline.after(request_timeout),
            spans=tracing,
            observe_batch=observe_batch,
            redact=redactor,
        )

    def live_context(caller: Caller, request_id: str) -> GatewayContext:
        # A WebSocket or SSE operation: the caller is authenticated already. Each change of a
        # subscription gets an upstream access of its own (budget, deadline, loaders).
        return GatewayContext(
            upstream=upstream_for(caller.integration_id),
            cursor_key=cursor_key,
            request_id=request_id,
            admission=memory.ticket(),
            live=live,
            renew_upstream=lambda: upstream_for(caller.integration_id),
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
        Route(
            "/webhooks/kombo",
            KomboWebhook(live, settings.kombo_webhook_secret).handle,
            methods=["POST"],
        ),
    ]
    telemetry = RequestTelemetry(tracing)
    caching = HttpCaching(settings.http_max_age)
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
            caching=caching,
        )
    else:
        endpoint = GraphQLEndpoint(
            schema,
            context_getter,
            graphiql=graphiql.page_endpoint("/graphql"),
            max_body_bytes=settings.max_body_bytes,
            persisted=persisted,
            telemetry=telemetry,
            caching=caching,
        )
    # Every method reaches the endpoint: its own 405 (JSON) says no-store like every answer.
    routes.insert(0, Route("/graphql", endpoint))
    live_operations = LiveOperations(
        schema,
        authenticator.authenticate,
        live_context,
        settings.live_transport,
        persisted=persisted,
        telemetry=telemetry,
    )
    routes.insert(
        1,
        WebSocketRoute(
            "/graphql",
            GraphQLWebSocket(
                live_operations, settings.max_body_bytes, settings.cors_origins, redactor
            ),
        ),
    )
    routes.insert(
        2, Route("/graphql/stream", GraphQLEventStream(live_operations, settings.max_body_bytes))
    )
    # Outermost: every answer carries the request id, the CORS ones included. Then no answer
    # carries a secret (README "Errors": upstream texts are redacted before that).
    middleware = [Middleware(RequestIdMiddleware), Middleware(SecretGuard, redactor=redactor)]
    if settings.cors_origins:
        middleware.append(
            Middleware(CORS, origins=settings.cors_origins, extra_headers=settings.cors_headers)
        )
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.live = live  # the process's live feed (tests reach it here)
    return app


def app_from_environment() -> Starlette:
    """The app factory each ``serve --workers N`` worker process calls: settings from its env.

    Only the entry points read the environment; the parent process has validated it already
    (a wrong value raises :class:`SettingsError` here as in ``serve``).
    """
    import os

    from gateway.heap import settle_for_serving
    from gateway.observability.logs import install_redaction

    settings = Settings.from_env(os.environ)
    install_redaction(settings.secrets())
    app = create_app(settings)
    settle_for_serving()  # the worker's startup heap, frozen (gateway.heap)
    return app
