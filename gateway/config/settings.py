"""Environment → one validated :class:`Settings` object, read once at start (README
"Configuration").

Nothing else in the gateway reads ``os.environ``: the CLI builds a ``Settings`` with
:func:`Settings.from_env` and hands it to ``gateway.app.create_app``. Every variable is read
through a typed reader of :mod:`gateway.config.readers`; the checks that need the gateway's
other code (a JWT public key, the trusted-documents manifest, the sandbox's fault names) run
where the app is assembled, with the code they need.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import ipaddress
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal
from urllib.parse import unquote, urlsplit

from gateway.config.readers import Environment, SettingsError

EU_BASE_URL = "https://api.kombo.dev/v1"
US_BASE_URL = "https://api.us.kombo.dev/v1"
SANDBOX_BASE_URL = "http://sandbox.kombo-gateway.invalid/v1"
DEFAULT_MAX_BODY_BYTES = 1_048_576  # 1 MiB: a 1,000-id lookup is ~30 KB
MIN_MAX_BODY_BYTES = 1024
MAX_MAX_BODY_BYTES = 64 * 1_048_576
DEFAULT_APQ_CACHE_SIZE = 1000  # documents
DEFAULT_APQ_CACHE_BYTES = 10 * 1_048_576
DEFAULT_CACHE_MAX_ENTRIES = 1000  # pages
DEFAULT_CACHE_MAX_BYTES = 32 * 1_048_576  # estimated memory of the parsed pages
MAX_CACHE_TTL = 86_400
DEFAULT_UPSTREAM_MAX_BYTES = 16 * 1_048_576  # the Kombo client's default: ~50x a 250-record page
MIN_UPSTREAM_MAX_BYTES = 1_048_576
MAX_UPSTREAM_MAX_BYTES = 1024 * 1_048_576
# Interviews in flight per process (README "Sizing memory"): at ~7.5 KB of RSS each (measured,
# `python -m bench.hostile.memory`), 10,000 is ~75 MB above a warm worker's ~110 MB, within the
# manifest's 256 Mi with room; it is also GATEWAY_MAX_COST's default, the least allowed.
DEFAULT_MAX_INFLIGHT_COST = 10_000
MAX_MAX_INFLIGHT_COST = 10**9
REDIS_URL_SCHEMES = ("redis", "rediss", "unix")
MIN_SECRET_BYTES = 32
"""RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits)."""

AuthMode = Literal["none", "jwt"]
LogFormat = Literal["text", "json"]
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_SERVICE_NAME = "kombo-gateway"


@dataclass(frozen=True)
class Timeouts:
    """Upstream timeouts in seconds (httpx's connect/read/write/pool, and a total per call)."""

    connect: float = 5.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 5.0
    total: float = 20.0


@dataclass(frozen=True)
class QueryLimits:
    """What one GraphQL request may ask (README "Query limits"); each has its variable.

    ``max_depth``: fields nested on any path. ``max_aliases``: aliased fields, fragments
    expanded. ``max_tokens``: lexical tokens (comments included) before parsing stops.
    ``max_cost``: estimated interviews fetched, ``first`` multiplied through nested
    connections. ``max_estimated_calls``: estimated upstream calls. ``upstream_budget``: real
    upstream calls per request, counted as they happen. ``introspection``: whether
    ``__schema``/``__type`` may be queried (GraphiQL needs it).
    """

    max_depth: int = 12
    max_aliases: int = 100
    max_tokens: int = 5_000
    max_cost: int = 10_000
    max_estimated_calls: int = 50
    upstream_budget: int = 50
    introspection: bool = True

    VARIABLES: ClassVar[Mapping[str, str]] = {
        "max_depth": "GATEWAY_MAX_DEPTH",
        "max_aliases": "GATEWAY_MAX_ALIASES",
        "max_tokens": "GATEWAY_MAX_TOKENS",
        "max_cost": "GATEWAY_MAX_COST",
        "max_estimated_calls": "GATEWAY_MAX_ESTIMATED_CALLS",
        "upstream_budget": "GATEWAY_UPSTREAM_BUDGET",
        "introspection": "GATEWAY_INTROSPECTION",
    }
    """The environment variable of each limit (error messages name it)."""


@dataclass(frozen=True)
class ConnectionLimits:
    """What one client connection may send and hold (README "Limits": "Connections").

    Request heads: ``max_url_bytes`` (the request target, 414 beyond), ``max_header_bytes``
    (one header line, name and value), ``max_head_bytes`` (request line and every header) and
    ``max_headers`` (431 beyond each). Time: ``header_timeout`` (seconds for a whole head, from
    the connection's opening or the head's first byte), ``body_timeout`` (seconds for a whole
    body, from the end of its head; 408 beyond), ``keepalive_timeout`` (seconds a connection
    may sit idle between requests). ``max_connections``: client connections of one worker
    process at once; ``None`` derives it from the descriptor limit at start
    (:mod:`gateway.http.server_protocol`).

    The head limits are those of the proxies a gateway sits behind: nginx (and ingress-nginx)
    refuses a request line or header line over 8 KiB and a head over 32 KiB; AWS's ALB a line
    over 16 KiB and a head over 64 KiB. A browser's JWT is 1-2 KiB, its cookies at most 4 KiB
    each; a GraphQL GET carries its document in the URL, hence 16 KiB for URL and header.
    """

    max_url_bytes: int = 16_384
    max_header_bytes: int = 16_384
    max_head_bytes: int = 65_536
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    keepalive_timeout: float = 5.0
    max_connections: int | None = None

    VARIABLES: ClassVar[Mapping[str, str]] = {
        "max_url_bytes": "GATEWAY_MAX_URL_BYTES",
        "max_header_bytes": "GATEWAY_MAX_HEADER_BYTES",
        "max_head_bytes": "GATEWAY_MAX_HEAD_BYTES",
        "max_headers": "GATEWAY_MAX_HEADERS",
        "header_timeout": "GATEWAY_HEADER_TIMEOUT",
        "body_timeout": "GATEWAY_BODY_TIMEOUT",
        "keepalive_timeout": "GATEWAY_KEEPALIVE_TIMEOUT",
        "max_connections": "GATEWAY_MAX_CONNECTIONS",
    }
    """The environment variable of each limit (error messages name it)."""


@dataclass(frozen=True)
class Resilience:
    """How the gateway copes with a slow or struggling Kombo (README "Resilience").

    ``request_timeout``: seconds one GraphQL request may spend on upstream calls, retries and
    waits included (``GATEWAY_REQUEST_TIMEOUT``). ``upstream_concurrency``: upstream requests of
    one integration in flight at once (``GATEWAY_UPSTREAM_CONCURRENCY``). ``retries``,
    ``retry_base_delay``, ``retry_max_delay``: the retry policy (``GATEWAY_UPSTREAM_RETRIES``,
    ``GATEWAY_RETRY_BASE_DELAY``, ``GATEWAY_RETRY_MAX_DELAY``).
    """

    request_timeout: float = 10.0
    upstream_concurrency: int = 8
    retries: int = 3
    retry_base_delay: float = 0.2
    retry_max_delay: float = 5.0


@dataclass(frozen=True)
class PersistedQuerySettings:
    """Automatic persisted queries and the trusted-documents mode (README "Persisted queries").

    ``trusted_documents_path``, when set, is the manifest's path (``GATEWAY_TRUSTED_DOCUMENTS``);
    the app loads it and checks it against the schema before it serves, and APQ registration is
    then off whatever ``apq`` says.
    """

    apq: bool = True
    cache_size: int = DEFAULT_APQ_CACHE_SIZE
    cache_bytes: int = DEFAULT_APQ_CACHE_BYTES
    trusted_documents_path: str | None = None


@dataclass(frozen=True)
class ResponseCacheSettings:
    """The short-TTL cache of upstream pages (README "Caching").

    ``ttl``: seconds a successful page is served from the cache (``GATEWAY_CACHE_TTL``; 0, the
    default, turns the cache off). ``max_entries`` and ``max_bytes``: the in-process store's
    bounds (``GATEWAY_CACHE_MAX_ENTRIES``, ``GATEWAY_CACHE_MAX_BYTES``); with Redis
    (``GATEWAY_REDIS_URL``) the pages live there instead, bounded by Redis's ``maxmemory``.
    """

    ttl: int = 0
    max_entries: int = DEFAULT_CACHE_MAX_ENTRIES
    max_bytes: int = DEFAULT_CACHE_MAX_BYTES

    @property
    def enabled(self) -> bool:
        return self.ttl > 0


@dataclass(frozen=True)
class LogSettings:
    """Log lines (README "Operations"): ``LOG_FORMAT`` ``text`` (default: a terminal, ``make
    run``) or ``json`` (production: one object per line), ``LOG_LEVEL`` (default ``info``)."""

    format: LogFormat = "text"
    level: str = "info"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LogSettings:
        """Read and check ``LOG_FORMAT`` and ``LOG_LEVEL`` (case-insensitive)."""
        variables = Environment(env)
        log_format = variables.choice("LOG_FORMAT", ("text", "json"), "text", any_case=True)
        level = variables.choice("LOG_LEVEL", LOG_LEVELS, "info", any_case=True)
        return cls("json" if log_format == "json" else "text", level)


@dataclass(frozen=True)
class TracingSettings:
    """OpenTelemetry tracing, on when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set (README "Operations"). The exporter reads
    the other ``OTEL_EXPORTER_OTLP_*`` variables itself; the values of its headers are kept here
    only to be redacted from log lines."""

    endpoint: str
    service_name: str = DEFAULT_SERVICE_NAME
    header_values: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class LiveTransportSettings:
    """What one subscriber connection may hold (README "Live changes"): WebSocket
    (``graphql-transport-ws`` on ``/graphql``) and SSE (``/graphql/stream``).

    The feed's own limits (per integration, per process, the queue of a subscriber, refreshes)
    are :mod:`gateway.live`'s settings."""

    max_subscriptions_per_connection: int = 20
    """``GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION``: operations one WebSocket runs at once;
    one more is answered with an ``error`` message (``TOO_MANY_SUBSCRIPTIONS``)."""
    keepalive_seconds: float = 15.0
    """``GATEWAY_LIVE_KEEPALIVE_SECONDS``: a WebSocket ``ping`` message, or an SSE ``:`` comment
    line, this often, so that proxies keep the connection open; a message the client has not
    taken in two such periods drops the connection (:attr:`send_timeout_seconds`)."""
    idle_seconds: float = 60.0
    """``GATEWAY_LIVE_IDLE_SECONDS``: a WebSocket with no running operation this long is closed
    (1000)."""
    init_timeout_seconds: float = 10.0
    """``GATEWAY_LIVE_INIT_TIMEOUT_SECONDS``: a WebSocket that sends no ``connection_init`` this
    long is closed (4408, as the protocol says)."""

    @property
    def send_timeout_seconds(self) -> float:
        """A message a subscriber's connection has not taken in two keep-alive periods: the
        client is gone or reads nothing, and the connection is dropped (a slow consumer)."""
        return 2 * self.keepalive_seconds


@dataclass(frozen=True)
class LiveSettings:
    """Live changes (``Subscription.changes``, README "Live changes"); each field has its
    variable and range in :data:`LIVE_VARIABLES` (a field added there is read like these).

    ``poll_seconds``: how often each (integration, model) with subscribers is refreshed when no
    webhook says so (``GATEWAY_LIVE_POLL_SECONDS``). ``min_refresh_seconds``: the least time
    between two refreshes of one (integration, model), however many webhooks arrive
    (``GATEWAY_LIVE_MIN_REFRESH_SECONDS``). ``max_subscriptions_per_integration`` and
    ``max_subscriptions``: subscriptions at once, of one integration and of the whole process
    (``GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION``, ``GATEWAY_LIVE_MAX_SUBSCRIPTIONS``).
    ``queue_size``: changes one subscription may have waiting; a subscriber that falls further
    behind is ended (``GATEWAY_LIVE_QUEUE_SIZE``). ``lease_seconds``: the life of the Redis
    lease that makes one replica the refresher of an (integration, model), renewed every third
    of it; a replica that dies holding it stops refreshing, and another takes over at most this
    long and a third later (``GATEWAY_LIVE_LEASE_SECONDS``).
    """

    poll_seconds: float = 60.0
    min_refresh_seconds: float = 2.0
    max_subscriptions_per_integration: int = 1_000
    max_subscriptions: int = 10_000
    queue_size: int = 1_000
    lease_seconds: float = 15.0


LIVE_VARIABLES: Mapping[str, tuple[str, float, float]] = {
    "poll_seconds": ("GATEWAY_LIVE_POLL_SECONDS", 1, 86_400),
    "min_refresh_seconds": ("GATEWAY_LIVE_MIN_REFRESH_SECONDS", 0, 3_600),
    "max_subscriptions_per_integration": (
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION",
        1,
        10_000_000,
    ),
    "max_subscriptions": ("GATEWAY_LIVE_MAX_SUBSCRIPTIONS", 1, 10_000_000),
    "queue_size": ("GATEWAY_LIVE_QUEUE_SIZE", 1, 1_000_000),
    "lease_seconds": ("GATEWAY_LIVE_LEASE_SECONDS", 1, 3_600),
}
"""The variable and range of each :class:`LiveSettings` field; ``int`` fields are whole
numbers, ``float`` ones seconds."""


@dataclass(frozen=True)
class Settings:
    """Everything the gateway is configured with (README "Configuration")."""

    kombo_api_key: str | None = None
    kombo_base_url: str = EU_BASE_URL
    kombo_integration_id: str | None = None
    auth: AuthMode = "none"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = field(default=None, repr=False)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_integration_claim: str = "kombo_integration_id"
    cors_origins: tuple[str, ...] = ()
    cors_headers: tuple[str, ...] = ()
    """``GATEWAY_CORS_HEADERS``: request headers allowed from those origins besides the gateway's
    own and frontend tooling's (:mod:`gateway.http.cors`), lowercase."""
    http_max_age: int | None = None
    """``GATEWAY_HTTP_MAX_AGE``: seconds a browser may reuse a successful GET answer
    (``Cache-Control: private, max-age=N``); ``None``: never stored
    (:mod:`gateway.http.caching`)."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    drain_seconds: float = 0.0
    shutdown_grace: float = 25.0
    timeouts: Timeouts = field(default_factory=Timeouts)
    cursor_secret: str | None = field(default=None, repr=False)
    allow_unauthenticated: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    upstream_max_bytes: int = DEFAULT_UPSTREAM_MAX_BYTES
    """``GATEWAY_UPSTREAM_MAX_BYTES``: the longest upstream answer read, after decompression;
    a longer one is ``UPSTREAM_UNAVAILABLE``."""
    limits: QueryLimits = field(default_factory=QueryLimits)
    max_inflight_cost: int = DEFAULT_MAX_INFLIGHT_COST
    """``GATEWAY_MAX_INFLIGHT_COST``: estimated interviews of the requests a process executes
    at once (memory admission, :mod:`gateway.admission`); at least ``limits.max_cost``."""
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    resilience: Resilience = field(default_factory=Resilience)
    sandbox_faults: tuple[str, ...] = ()
    sandbox_change_every: float = 0.0
    """``SANDBOX_CHANGE_EVERY``: seconds between the embedded sandbox's edits, each followed by
    a ``data-changed`` webhook to this gateway (README "Live changes"); 0: none. Ignored with an
    API key (there is no sandbox to edit)."""
    persisted_queries: PersistedQuerySettings = field(default_factory=PersistedQuerySettings)
    fast_path: bool = True
    """Complete eligible selections with compiled projections (``GATEWAY_FAST_PATH``, default
    true; ``false`` is an escape hatch: graphql-core completes every field)."""
    response_cache: ResponseCacheSettings = field(default_factory=ResponseCacheSettings)
    redis_url: str | None = field(default=None, repr=False)
    """``GATEWAY_REDIS_URL``: the Redis every replica shares, for cached pages (when the cache
    is on) and APQ documents (when APQ is)."""
    log: LogSettings = field(default_factory=LogSettings)
    tracing: TracingSettings | None = None
    live_transport: LiveTransportSettings = field(default_factory=LiveTransportSettings)
    """Subscriber connections: WebSocket and SSE (README "Live changes")."""
    """OpenTelemetry tracing; ``None``: off (nothing of OpenTelemetry is loaded)."""
    live: LiveSettings = field(default_factory=LiveSettings)
    """Live changes: polling, refresh rate, subscription limits (``GATEWAY_LIVE_*``)."""
    kombo_webhook_secret: str | None = field(default=None, repr=False)
    """``KOMBO_WEBHOOK_SECRET``: when set, ``POST /webhooks/kombo`` answers 401 unless
    ``X-Kombo-Signature`` verifies (:mod:`gateway.live.webhook`)."""

    def __repr__(self) -> str:  # never print the API key
        key = "set" if self.kombo_api_key else "unset"
        return (
            f"Settings(kombo_api_key=<{key}>, kombo_base_url={self.kombo_base_url!r}, "
            f"kombo_integration_id={self.kombo_integration_id!r}, auth={self.auth!r}, "
            f"host={self.host!r}, port={self.port})"
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a response or a log line."""
        values = (
            self.kombo_api_key,
            self.jwt_secret,
            self.cursor_secret,
            self.kombo_webhook_secret,
            *self._redis_secrets(),
        )
        tracing_headers = self.tracing.header_values if self.tracing else ()
        return tuple(v for v in (*values, *tracing_headers) if v)

    def _redis_secrets(self) -> tuple[str, ...]:
        password = urlsplit(self.redis_url).password if self.redis_url else None
        return (password, unquote(password)) if password else ()

    @property
    def sandbox(self) -> bool:
        """True when no API key is configured: the gateway serves the embedded sandbox upstream."""
        return self.kombo_api_key is None

    @property
    def cursor_key(self) -> bytes:
        """The key that signs connection cursors.

        Derived from the API key (or ``GATEWAY_CURSOR_SECRET``) so that every replica sharing
        the key accepts the others' cursors, with no extra setting to keep in sync.
        """
        seed = self.cursor_secret or self.kombo_api_key or "kombo-gateway-sandbox"
        return hmac.new(seed.encode(), b"kombo-gateway edge cursor v1", hashlib.sha256).digest()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate the variables; raise :class:`SettingsError` on the first bad one."""
        variables = Environment(env)
        get = variables.text

        api_key = get("KOMBO_API_KEY")
        base_url = (variables.http_url("KOMBO_BASE_URL", EU_BASE_URL) or EU_BASE_URL).rstrip("/")

        auth = variables.choice("GATEWAY_AUTH", ("none", "jwt"), "none")
        jwt_secret = get("GATEWAY_JWT_SECRET")
        jwt_public_key = get("GATEWAY_JWT_PUBLIC_KEY")
        if jwt_public_key is not None and "\n" not in jwt_public_key:
            # One-line environments (docker --env-file, CI secrets) often hold PEM as literal \n.
            jwt_public_key = jwt_public_key.replace("\\n", "\n")
        _check_jwt_keys(auth, jwt_secret, jwt_public_key)

        port = variables.port("PORT", 8000)
        workers = _workers(variables, sandbox=api_key is None)
        drain_seconds = variables.seconds("GATEWAY_DRAIN_SECONDS", 0.0, 0, 300)
        shutdown_grace = variables.seconds("GATEWAY_SHUTDOWN_GRACE", 25.0, 0, 3600)

        host = get("HOST") or "127.0.0.1"
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise SettingsError(
                    f"HOST must be an IP address or 'localhost', got {host!r}"
                ) from None
        allow_unauthenticated = variables.flag("GATEWAY_ALLOW_UNAUTHENTICATED")
        unguarded = auth == "none" and api_key is not None and not allow_unauthenticated
        if unguarded and not _is_loopback(host):
            raise SettingsError(
                f"HOST={host} is not a loopback address, and GATEWAY_AUTH=none with a real "
                "KOMBO_API_KEY lets anyone who can reach the gateway read every integration "
                "of the Kombo account. Set GATEWAY_AUTH=jwt, listen on 127.0.0.1, or (behind "
                "an authenticating proxy) set GATEWAY_ALLOW_UNAUTHENTICATED=true"
            )

        origins = variables.items("GATEWAY_CORS_ORIGINS")
        _check_cors_origins(origins)
        cors_headers = _cors_headers(variables, origins)
        http_max_age = _http_max_age(variables, auth)

        limits = _query_limits(variables)
        max_inflight_cost = variables.whole_number(
            "GATEWAY_MAX_INFLIGHT_COST", DEFAULT_MAX_INFLIGHT_COST, 1, MAX_MAX_INFLIGHT_COST
        )
        if max_inflight_cost < limits.max_cost:
            # Otherwise a request the limits allow could never be admitted.
            raise SettingsError(
                f"GATEWAY_MAX_INFLIGHT_COST ({max_inflight_cost}) must be at least "
                f"GATEWAY_MAX_COST ({limits.max_cost}), so that every allowed request can run; "
                "lower GATEWAY_MAX_COST too, or raise the budget"
            )

        sandbox_faults = variables.items("SANDBOX_FAULTS")
        if sandbox_faults and api_key is not None:
            # Which names exist is the sandbox's to say: create_app checks them.
            raise SettingsError(
                "SANDBOX_FAULTS applies to the embedded sandbox only; unset KOMBO_API_KEY to use it"
            )

        return cls(
            kombo_api_key=api_key,
            kombo_base_url=base_url,
            kombo_integration_id=get("KOMBO_INTEGRATION_ID"),
            auth="jwt" if auth == "jwt" else "none",
            jwt_secret=jwt_secret,
            jwt_public_key=jwt_public_key,
            jwt_audience=get("GATEWAY_JWT_AUDIENCE"),
            jwt_issuer=get("GATEWAY_JWT_ISSUER"),
            jwt_integration_claim=get("GATEWAY_JWT_INTEGRATION_CLAIM") or "kombo_integration_id",
            cors_origins=origins,
            cors_headers=cors_headers,
            http_max_age=http_max_age,
            host=host,
            port=port,
            workers=workers,
            drain_seconds=drain_seconds,
            shutdown_grace=shutdown_grace,
            cursor_secret=get("GATEWAY_CURSOR_SECRET"),
            allow_unauthenticated=allow_unauthenticated,
            max_body_bytes=variables.whole_number(
                "GATEWAY_MAX_BODY_BYTES",
                DEFAULT_MAX_BODY_BYTES,
                MIN_MAX_BODY_BYTES,
                MAX_MAX_BODY_BYTES,
            ),
            upstream_max_bytes=variables.whole_number(
                "GATEWAY_UPSTREAM_MAX_BYTES",
                DEFAULT_UPSTREAM_MAX_BYTES,
                MIN_UPSTREAM_MAX_BYTES,
                MAX_UPSTREAM_MAX_BYTES,
            ),
            limits=limits,
            max_inflight_cost=max_inflight_cost,
            connections=_connection_limits(variables),
            resilience=_resilience(variables),
            sandbox_faults=sandbox_faults,
            sandbox_change_every=variables.seconds("SANDBOX_CHANGE_EVERY", 0.0, 0, 3_600),
            persisted_queries=PersistedQuerySettings(
                apq=variables.flag("GATEWAY_APQ", default=True),
                cache_size=variables.whole_number(
                    "GATEWAY_APQ_CACHE_SIZE", DEFAULT_APQ_CACHE_SIZE, 1, 10**6
                ),
                cache_bytes=variables.whole_number(
                    "GATEWAY_APQ_CACHE_BYTES", DEFAULT_APQ_CACHE_BYTES, 1024, 2**30
                ),
                trusted_documents_path=get("GATEWAY_TRUSTED_DOCUMENTS"),
            ),
            fast_path=variables.flag("GATEWAY_FAST_PATH", default=True),
            response_cache=ResponseCacheSettings(
                ttl=variables.whole_number("GATEWAY_CACHE_TTL", 0, 0, MAX_CACHE_TTL),
                max_entries=variables.whole_number(
                    "GATEWAY_CACHE_MAX_ENTRIES", DEFAULT_CACHE_MAX_ENTRIES, 1, 10**6
                ),
                max_bytes=variables.whole_number(
                    "GATEWAY_CACHE_MAX_BYTES", DEFAULT_CACHE_MAX_BYTES, 1_048_576, 2**34
                ),
            ),
            redis_url=_redis_url(variables),
            log=LogSettings.from_env(env),
            tracing=_tracing_settings(variables),
            live_transport=_live_transport(variables),
            live=_live(variables),
            kombo_webhook_secret=get("KOMBO_WEBHOOK_SECRET"),
        )


QUERY_LIMIT_RANGE = (1, 999_999_999)
"""Every query limit but ``GATEWAY_INTROSPECTION`` is a whole number in this range."""

CONNECTION_LIMIT_RANGES: Mapping[str, tuple[float, float]] = {
    "max_url_bytes": (256, 1_048_576),
    "max_header_bytes": (256, 1_048_576),
    "max_head_bytes": (1024, 4_194_304),
    "max_headers": (8, 10_000),
    "header_timeout": (0.1, 3600),
    "body_timeout": (0.1, 3600),
    "keepalive_timeout": (0.1, 3600),
    "max_connections": (16, 10_000_000),
}
"""The range of each :class:`ConnectionLimits` field (its variable is in ``VARIABLES``)."""

RESILIENCE_VARIABLES: Mapping[str, tuple[str, float, float]] = {
    "request_timeout": ("GATEWAY_REQUEST_TIMEOUT", 0.1, 600),
    "upstream_concurrency": ("GATEWAY_UPSTREAM_CONCURRENCY", 1, 1000),
    "retries": ("GATEWAY_UPSTREAM_RETRIES", 0, 10),
    "retry_base_delay": ("GATEWAY_RETRY_BASE_DELAY", 0, 60),
    "retry_max_delay": ("GATEWAY_RETRY_MAX_DELAY", 0, 60),
}
"""The variable and range of each :class:`Resilience` field; ``int`` fields are whole numbers,
the others seconds."""


def _check_jwt_keys(auth: str, secret: str | None, public_key: str | None) -> None:
    """``jwt`` needs exactly one key; ``none`` must not silently ignore a configured one. Whether
    a public key is a usable one is for the JWT verifier to say, when the app is assembled."""
    if auth != "jwt":
        for name, value in (("GATEWAY_JWT_SECRET", secret), ("GATEWAY_JWT_PUBLIC_KEY", public_key)):
            if value is not None:
                raise SettingsError(
                    f"{name} is set but GATEWAY_AUTH is 'none', so no token would be checked; "
                    "set GATEWAY_AUTH=jwt (or unset the key)"
                )
        return
    if (secret is None) == (public_key is None):
        raise SettingsError(
            "GATEWAY_AUTH=jwt needs exactly one of GATEWAY_JWT_SECRET (HS256) or "
            "GATEWAY_JWT_PUBLIC_KEY (PEM, RS256/ES256), got "
            + ("both" if secret is not None else "neither")
        )
    if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"GATEWAY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes for HS256 "
            f"(RFC 7518 §3.2), got {len(secret.encode())}"
        )


def _is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: reachable from this machine only."""
    if host == "localhost":
        return True
    return ipaddress.ip_address(host).is_loopback


def _check_cors_origins(origins: tuple[str, ...]) -> None:
    """Each entry is ``*`` alone, or an origin exactly as browsers send it (scheme://host[:port])."""
    if "*" in origins and len(origins) > 1:
        raise SettingsError("GATEWAY_CORS_ORIGINS: '*' already allows every origin; list it alone")
    for origin in origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        try:
            parts.port  # noqa: B018 (a malformed port raises here)
        except ValueError:
            parts = urlsplit("")
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path
            or parts.query
            or parts.fragment
            or parts.username is not None
        ):
            raise SettingsError(
                "GATEWAY_CORS_ORIGINS entries must be origins like https://app.example.com "
                f"(scheme, host, optional port; no path or trailing slash), got {origin!r}"
            )


HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""An HTTP field name (RFC 9110 §5.1: a token)."""
MAX_HTTP_MAX_AGE = 86_400


def _cors_headers(variables: Environment, origins: tuple[str, ...]) -> tuple[str, ...]:
    """``GATEWAY_CORS_HEADERS``: header names, comma-separated, lowercased; only with origins."""
    names = variables.items("GATEWAY_CORS_HEADERS")
    if names and not origins:
        raise SettingsError(
            "GATEWAY_CORS_HEADERS applies to the origins of GATEWAY_CORS_ORIGINS, which is unset; "
            "set both, or neither"
        )
    for name in names:
        if name == "*":
            raise SettingsError(
                "GATEWAY_CORS_HEADERS: list the header names; '*' is not accepted (browsers "
                "never let it cover Authorization)"
            )
        if not HEADER_NAME.fullmatch(name):
            raise SettingsError(
                "GATEWAY_CORS_HEADERS entries must be HTTP header names like x-client-version "
                f"(letters, digits, '-'; comma-separated), got {name!r}"
            )
    return tuple(dict.fromkeys(name.lower() for name in names))


def _http_max_age(variables: Environment, auth: str) -> int | None:
    """``GATEWAY_HTTP_MAX_AGE``: 0 .. 86400 seconds, unset by default; not with ``jwt``, whose
    answers are never stored (README "HTTP caching")."""
    text = variables.text("GATEWAY_HTTP_MAX_AGE")
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_HTTP_MAX_AGE:
        raise SettingsError(
            f"GATEWAY_HTTP_MAX_AGE must be a whole number of seconds from 0 to "
            f"{MAX_HTTP_MAX_AGE}, got {text!r} (default unset: GET answers are not stored)"
        )
    max_age = int(text)
    if auth == "jwt":
        raise SettingsError(
            "GATEWAY_HTTP_MAX_AGE does not apply with GATEWAY_AUTH=jwt: an answer to a request "
            "bearing a token is never stored (Cache-Control: no-store); unset it"
        )
    return max_age


def _query_limits(variables: Environment) -> QueryLimits:
    """``GATEWAY_MAX_DEPTH`` and the other limits (unset: the default);
    ``GATEWAY_INTROSPECTION``: true unless set false."""
    defaults = QueryLimits()
    low, high = QUERY_LIMIT_RANGE
    numbers = {
        attribute: variables.whole_number(name, getattr(defaults, attribute), low, high)
        for attribute, name in QueryLimits.VARIABLES.items()
        if attribute != "introspection"
    }
    introspection = variables.flag("GATEWAY_INTROSPECTION", default=True)
    return QueryLimits(**numbers, introspection=introspection)


def _connection_limits(variables: Environment) -> ConnectionLimits:
    """``GATEWAY_MAX_URL_BYTES`` .. ``GATEWAY_MAX_CONNECTIONS`` (:class:`ConnectionLimits`)."""
    default = ConnectionLimits()
    values: dict[str, float | None] = {}
    for attribute, name in ConnectionLimits.VARIABLES.items():
        low, high = CONNECTION_LIMIT_RANGES[attribute]
        fallback = getattr(default, attribute)
        if isinstance(fallback, float):
            values[attribute] = variables.seconds(name, fallback, low, high)
        elif fallback is None and variables.text(name) is None:
            values[attribute] = None  # derived from the descriptor limit at start
        else:
            values[attribute] = variables.whole_number(name, fallback or 0, int(low), int(high))
    limits = ConnectionLimits(**values)  # type: ignore[arg-type]
    names = ConnectionLimits.VARIABLES
    for attribute in ("max_url_bytes", "max_header_bytes"):
        if getattr(limits, attribute) > limits.max_head_bytes:
            raise SettingsError(
                f"{names[attribute]} ({getattr(limits, attribute)}) cannot exceed "
                f"GATEWAY_MAX_HEAD_BYTES ({limits.max_head_bytes}), which bounds the whole head"
            )
    return limits


def _resilience(variables: Environment) -> Resilience:
    """The ``GATEWAY_REQUEST_TIMEOUT`` / ``GATEWAY_UPSTREAM_*`` / ``GATEWAY_RETRY_*`` variables."""
    default = Resilience()
    values: dict[str, float] = {}
    for attribute, (name, low, high) in RESILIENCE_VARIABLES.items():
        fallback = getattr(default, attribute)
        if isinstance(fallback, int):
            values[attribute] = variables.whole_number(name, fallback, int(low), int(high))
        else:
            values[attribute] = variables.seconds(name, fallback, low, high)
    return Resilience(**values)  # type: ignore[arg-type]


def _live(variables: Environment) -> LiveSettings:
    """The ``GATEWAY_LIVE_*`` variables (:data:`LIVE_VARIABLES`)."""
    default = LiveSettings()
    values: dict[str, float] = {}
    for attribute, (name, low, high) in LIVE_VARIABLES.items():
        fallback = getattr(default, attribute)
        if isinstance(fallback, int):
            values[attribute] = variables.whole_number(name, fallback, int(low), int(high))
        else:
            values[attribute] = variables.seconds(name, fallback, low, high)
    live = LiveSettings(**values)  # type: ignore[arg-type]
    if live.max_subscriptions_per_integration > live.max_subscriptions:
        raise SettingsError(
            "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION "
            f"({live.max_subscriptions_per_integration}) cannot exceed "
            f"GATEWAY_LIVE_MAX_SUBSCRIPTIONS ({live.max_subscriptions}), the whole process's"
        )
    return live


def _redis_url(variables: Environment) -> str | None:
    """``GATEWAY_REDIS_URL``: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://``
    (TLS) or ``unix:///path/to/socket``. The message never repeats the URL (it may hold a
    password)."""
    url = variables.text("GATEWAY_REDIS_URL")
    if url is None:
        return None
    expected = "GATEWAY_REDIS_URL must look like redis://host:6379/0 (or rediss://, unix:///path)"
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        raise SettingsError(f"{expected}: the port is not a number from 0 to 65535") from None
    if parts.scheme not in REDIS_URL_SCHEMES:
        raise SettingsError(f"{expected}: the scheme {parts.scheme!r} is not one of those")
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError(f"{expected}: a unix:// URL needs the socket's path")
    elif not parts.hostname:
        raise SettingsError(f"{expected}: the host is missing")
    elif parts.path not in ("", "/") and not (
        parts.path[1:].isascii() and parts.path[1:].isdigit()
    ):
        raise SettingsError(f"{expected}: the database must be a number, as in /0")
    return url


def _tracing_settings(variables: Environment) -> TracingSettings | None:
    """``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` (an http(s)
    URL) turns tracing on, unless ``OTEL_SDK_DISABLED=true``; it needs the ``[otel]`` extra and
    OTLP over HTTP (``OTEL_EXPORTER_OTLP_PROTOCOL`` unset or ``http/protobuf``)."""
    get = variables.text
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    name = next((n for n in names if get(n)), names[1])
    if get(name) is None or variables.flag("OTEL_SDK_DISABLED"):
        return None
    endpoint = variables.http_url(name)
    assert endpoint is not None
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = get(variable)
        if protocol is not None and protocol != "http/protobuf":
            raise SettingsError(
                f"{variable}={protocol!r}: the gateway exports spans over OTLP/HTTP only; "
                "set it to 'http/protobuf' (a collector's port 4318) or unset it"
            )
    try:
        installed = importlib.util.find_spec("opentelemetry.exporter.otlp.proto.http") is not None
    except ModuleNotFoundError:
        installed = False
    if not installed:
        raise SettingsError(
            f"{name} is set but OpenTelemetry is not installed: "
            "pip install 'kombo-gateway[otel]' (or unset it to run without tracing)"
        )
    header_values = tuple(
        value.strip()
        for variable in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS")
        for pair in (get(variable) or "").split(",")
        for value in (unquote(pair.partition("=")[2]),)
        if value.strip()
    )
    return TracingSettings(
        endpoint=endpoint,
        service_name=get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME,
        header_values=header_values,
    )


MAX_WORKERS = 64


def _workers(variables: Environment, *, sandbox: bool) -> int:
    """``GATEWAY_WORKERS``: a whole number, or ``auto``: one per core this process may use, and
    one on the embedded sandbox (its data, and its changes, live in each worker)."""
    text = variables.text("GATEWAY_WORKERS")
    if text is not None and text.strip().lower() == "auto":
        return 1 if sandbox else min(usable_cores(), MAX_WORKERS)
    try:
        return variables.whole_number("GATEWAY_WORKERS", 1, 1, MAX_WORKERS)
    except SettingsError as exc:
        raise SettingsError(f"{exc}; or auto (one per usable core)") from None


def usable_cores(cgroup_cpu_max: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may run on: its CPU affinity, bounded by a cgroup v2 CPU quota
    (a container's ``--cpus``, a Kubernetes CPU limit), rounded up; at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    try:
        with open(cgroup_cpu_max, encoding="ascii") as quota_file:
            quota, _, period = quota_file.read().strip().partition(" ")
        if quota != "max" and period:
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def _live_transport(variables: Environment) -> LiveTransportSettings:
    defaults = LiveTransportSettings()
    return LiveTransportSettings(
        max_subscriptions_per_connection=variables.whole_number(
            "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_CONNECTION",
            defaults.max_subscriptions_per_connection,
            1,
            1000,
        ),
        keepalive_seconds=variables.seconds(
            "GATEWAY_LIVE_KEEPALIVE_SECONDS", defaults.keepalive_seconds, 0.1, 3600
        ),
        idle_seconds=variables.seconds(
            "GATEWAY_LIVE_IDLE_SECONDS", defaults.idle_seconds, 0.1, 86400
        ),
        init_timeout_seconds=variables.seconds(
            "GATEWAY_LIVE_INIT_TIMEOUT_SECONDS", defaults.init_timeout_seconds, 0.1, 600
        ),
    )
