"""Environment → one validated :class:`Settings` object, read once at start.

Nothing else in the gateway reads ``os.environ``: the CLI builds a ``Settings`` with
:func:`Settings.from_env` and hands it to :func:`gateway.app.create_app`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from gateway.persisted import TrustedDocuments

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

AuthMode = Literal["none", "jwt"]
LogFormat = Literal["text", "json"]
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_SERVICE_NAME = "kombo-gateway"


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and what it expects."""


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
    max_estimated_calls: int = 25
    upstream_budget: int = 20
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

    ``trusted_documents``, when set, is the manifest already loaded and checked against the
    schema; APQ registration is then off whatever ``apq`` says.
    """

    apq: bool = True
    cache_size: int = DEFAULT_APQ_CACHE_SIZE
    cache_bytes: int = DEFAULT_APQ_CACHE_BYTES
    trusted_documents: TrustedDocuments | None = field(default=None, repr=False)


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
        log_format = (env.get("LOG_FORMAT") or "").strip().lower() or "text"
        if log_format not in ("text", "json"):
            raise SettingsError(f"LOG_FORMAT must be 'text' or 'json', got {log_format!r}")
        level = (env.get("LOG_LEVEL") or "").strip().lower() or "info"
        if level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
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
class Settings:
    """Everything the gateway is configured with (CONTRACT.md §3)."""

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
    """OpenTelemetry tracing; ``None``: off (nothing of OpenTelemetry is loaded)."""

    def __repr__(self) -> str:  # never print the API key
        key = "set" if self.kombo_api_key else "unset"
        return (
            f"Settings(kombo_api_key=<{key}>, kombo_base_url={self.kombo_base_url!r}, "
            f"kombo_integration_id={self.kombo_integration_id!r}, auth={self.auth!r}, "
            f"host={self.host!r}, port={self.port})"
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a response or a log line."""
        values = (self.kombo_api_key, self.jwt_secret, self.cursor_secret, *self._redis_secrets())
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

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        api_key = get("KOMBO_API_KEY")
        base_url = (get("KOMBO_BASE_URL") or EU_BASE_URL).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(f"KOMBO_BASE_URL must be an http(s) URL, got {base_url!r}")

        auth = get("GATEWAY_AUTH") or "none"
        if auth not in ("none", "jwt"):
            raise SettingsError(f"GATEWAY_AUTH must be 'none' or 'jwt', got {auth!r}")
        jwt_secret = get("GATEWAY_JWT_SECRET")
        jwt_public_key = get("GATEWAY_JWT_PUBLIC_KEY")
        if jwt_public_key is not None and "\n" not in jwt_public_key:
            # One-line environments (docker --env-file, CI secrets) often hold PEM as literal \n.
            jwt_public_key = jwt_public_key.replace("\\n", "\n")
        _check_jwt_keys(auth, jwt_secret, jwt_public_key)

        port_text = get("PORT") or "8000"
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORT must be a whole number, got {port_text!r}") from None
        if not 0 <= port <= 65535:
            raise SettingsError(f"PORT must be between 0 and 65535, got {port}")

        workers_text = get("GATEWAY_WORKERS") or "1"
        if not workers_text.isdigit() or not 1 <= int(workers_text) <= 64:
            raise SettingsError(
                f"GATEWAY_WORKERS must be a whole number from 1 to 64, got {workers_text!r}"
            )

        drain_seconds = _seconds(get("GATEWAY_DRAIN_SECONDS"), "GATEWAY_DRAIN_SECONDS", 0.0, 300)
        shutdown_grace = _seconds(
            get("GATEWAY_SHUTDOWN_GRACE"), "GATEWAY_SHUTDOWN_GRACE", 25.0, 3600
        )

        host = get("HOST") or "127.0.0.1"
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise SettingsError(
                    f"HOST must be an IP address or 'localhost', got {host!r}"
                ) from None
        allow_unauthenticated = _flag("GATEWAY_ALLOW_UNAUTHENTICATED", get)
        unguarded = auth == "none" and api_key is not None and not allow_unauthenticated
        if unguarded and not _is_loopback(host):
            raise SettingsError(
                f"HOST={host} is not a loopback address, and GATEWAY_AUTH=none with a real "
                "KOMBO_API_KEY lets anyone who can reach the gateway read every integration "
                "of the Kombo account. Set GATEWAY_AUTH=jwt, listen on 127.0.0.1, or (behind "
                "an authenticating proxy) set GATEWAY_ALLOW_UNAUTHENTICATED=true"
            )

        origins = tuple(
            o.strip() for o in (get("GATEWAY_CORS_ORIGINS") or "").split(",") if o.strip()
        )
        _check_cors_origins(origins)

        max_body_text = get("GATEWAY_MAX_BODY_BYTES") or str(DEFAULT_MAX_BODY_BYTES)
        if not max_body_text.isdigit():
            raise SettingsError(
                f"GATEWAY_MAX_BODY_BYTES must be a whole number of bytes, got {max_body_text!r}"
            )
        max_body_bytes = int(max_body_text)
        if not MIN_MAX_BODY_BYTES <= max_body_bytes <= MAX_MAX_BODY_BYTES:
            raise SettingsError(
                f"GATEWAY_MAX_BODY_BYTES must be between {MIN_MAX_BODY_BYTES} and "
                f"{MAX_MAX_BODY_BYTES}, got {max_body_bytes}"
            )

        limits = _query_limits(get)
        max_inflight_cost = _whole_number(
            "GATEWAY_MAX_INFLIGHT_COST",
            get,
            DEFAULT_MAX_INFLIGHT_COST,
            1,
            MAX_MAX_INFLIGHT_COST,
        )
        if max_inflight_cost < limits.max_cost:
            # Otherwise a request the limits allow could never be admitted.
            raise SettingsError(
                f"GATEWAY_MAX_INFLIGHT_COST ({max_inflight_cost}) must be at least "
                f"GATEWAY_MAX_COST ({limits.max_cost}), so that every allowed request can run; "
                "lower GATEWAY_MAX_COST too, or raise the budget"
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
            host=host,
            port=port,
            workers=int(workers_text),
            drain_seconds=drain_seconds,
            shutdown_grace=shutdown_grace,
            cursor_secret=get("GATEWAY_CURSOR_SECRET"),
            allow_unauthenticated=allow_unauthenticated,
            max_body_bytes=max_body_bytes,
            upstream_max_bytes=_whole_number(
                "GATEWAY_UPSTREAM_MAX_BYTES",
                get,
                DEFAULT_UPSTREAM_MAX_BYTES,
                MIN_UPSTREAM_MAX_BYTES,
                MAX_UPSTREAM_MAX_BYTES,
            ),
            limits=limits,
            max_inflight_cost=max_inflight_cost,
            connections=_connection_limits(get),
            resilience=_resilience(get),
            sandbox_faults=_sandbox_faults(get, api_key),
            persisted_queries=_persisted_query_settings(get),
            fast_path=get("GATEWAY_FAST_PATH") is None or _flag("GATEWAY_FAST_PATH", get),
            response_cache=_response_cache_settings(get),
            redis_url=_redis_url(get),
            log=LogSettings.from_env(env),
            tracing=_tracing_settings(get),
        )


def _check_jwt_keys(auth: str, secret: str | None, public_key: str | None) -> None:
    """``jwt`` needs exactly one usable key; ``none`` must not silently ignore a configured one."""
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
    from gateway.auth import MIN_SECRET_BYTES, public_key_algorithm

    if secret is not None and len(secret.encode()) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"GATEWAY_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes for HS256 "
            f"(RFC 7518 §3.2), got {len(secret.encode())}"
        )
    if public_key is not None:
        try:
            public_key_algorithm(public_key)
        except ValueError as exc:
            raise SettingsError(f"GATEWAY_JWT_PUBLIC_KEY {exc}") from None


def _flag(name: str, get: Callable[[str], str | None]) -> bool:
    """A boolean variable: true/false, 1/0, yes/no (any case); unset is false."""
    value = get(name)
    if value is None:
        return False
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise SettingsError(f"{name} must be 'true' or 'false', got {value!r}")


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


def _resilience(get: Callable[[str], str | None]) -> Resilience:
    """The ``GATEWAY_REQUEST_TIMEOUT`` / ``GATEWAY_UPSTREAM_*`` / ``GATEWAY_RETRY_*`` variables."""
    default = Resilience()

    def number(name: str, fallback: float, low: float, high: float, whole: bool = False) -> float:
        text = get(name)
        if text is None:
            return fallback
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            kind = "a whole number" if whole else "a number of seconds"
            raise SettingsError(f"{name} must be {kind} from {low:g} to {high:g}, got {text!r}")
        return value

    return Resilience(
        request_timeout=number("GATEWAY_REQUEST_TIMEOUT", default.request_timeout, 0.1, 600),
        upstream_concurrency=int(
            number("GATEWAY_UPSTREAM_CONCURRENCY", default.upstream_concurrency, 1, 1000, True)
        ),
        retries=int(number("GATEWAY_UPSTREAM_RETRIES", default.retries, 0, 10, True)),
        retry_base_delay=number("GATEWAY_RETRY_BASE_DELAY", default.retry_base_delay, 0, 60),
        retry_max_delay=number("GATEWAY_RETRY_MAX_DELAY", default.retry_max_delay, 0, 60),
    )


def _sandbox_faults(get: Callable[[str], str | None], api_key: str | None) -> tuple[str, ...]:
    """``SANDBOX_FAULTS``: fault scenarios of the embedded sandbox (README "Trying failures")."""
    names = tuple(n.strip() for n in (get("SANDBOX_FAULTS") or "").split(",") if n.strip())
    if not names:
        return ()
    if api_key is not None:
        raise SettingsError(
            "SANDBOX_FAULTS applies to the embedded sandbox only; unset KOMBO_API_KEY to use it"
        )
    from gateway.sandbox.faults import FAULT_SCENARIOS

    unknown = [n for n in names if n not in FAULT_SCENARIOS]
    if unknown:
        raise SettingsError(
            f"SANDBOX_FAULTS: unknown scenario(s) {', '.join(unknown)}; "
            f"known: {', '.join(FAULT_SCENARIOS)}"
        )
    return names


def _persisted_query_settings(get: Callable[[str], str | None]) -> PersistedQuerySettings:
    """``GATEWAY_APQ`` (default true), ``GATEWAY_APQ_CACHE_SIZE`` (documents),
    ``GATEWAY_APQ_CACHE_BYTES`` and ``GATEWAY_TRUSTED_DOCUMENTS`` (a manifest, read and checked
    against the schema here so that a bad entry stops the start)."""
    trusted_documents = None
    path = get("GATEWAY_TRUSTED_DOCUMENTS")
    if path is not None:
        from gateway.persisted import load_trusted_documents

        trusted_documents = load_trusted_documents(path)
    return PersistedQuerySettings(
        apq=get("GATEWAY_APQ") is None or _flag("GATEWAY_APQ", get),
        cache_size=_whole_number("GATEWAY_APQ_CACHE_SIZE", get, DEFAULT_APQ_CACHE_SIZE, 1, 10**6),
        cache_bytes=_whole_number(
            "GATEWAY_APQ_CACHE_BYTES", get, DEFAULT_APQ_CACHE_BYTES, 1024, 2**30
        ),
        trusted_documents=trusted_documents,
    )


def _whole_number(
    name: str, get: Callable[[str], str | None], default: int, low: int, high: int
) -> int:
    """An integer variable within ``[low, high]``; unset is ``default``."""
    text = get(name) or str(default)
    if not text.isdigit() or not low <= int(text) <= high:
        raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _query_limits(get: Callable[[str], str | None]) -> QueryLimits:
    """``GATEWAY_MAX_DEPTH`` and the other limits: whole numbers of at least 1 (unset: the
    default); ``GATEWAY_INTROSPECTION``: true unless set false."""
    defaults = QueryLimits()
    numbers: dict[str, int] = {}
    for attribute, name in QueryLimits.VARIABLES.items():
        text = get(name)
        if attribute == "introspection" or text is None:
            continue
        if not text.isdigit() or int(text) < 1 or len(text) > 9:
            raise SettingsError(
                f"{name} must be a whole number from 1 to 999999999, got {text!r} "
                f"(default {getattr(defaults, attribute)})"
            )
        numbers[attribute] = int(text)
    introspection = get("GATEWAY_INTROSPECTION") is None or _flag("GATEWAY_INTROSPECTION", get)
    return QueryLimits(**numbers, introspection=introspection)


def _connection_limits(get: Callable[[str], str | None]) -> ConnectionLimits:
    """``GATEWAY_MAX_URL_BYTES`` .. ``GATEWAY_MAX_CONNECTIONS`` (:class:`ConnectionLimits`)."""
    default = ConnectionLimits()
    names = ConnectionLimits.VARIABLES

    def size(attribute: str, low: int, high: int) -> int:
        return _whole_number(names[attribute], get, getattr(default, attribute), low, high)

    def seconds(attribute: str, low: float, high: float) -> float:
        name, text = names[attribute], get(names[attribute])
        if text is None:
            return float(getattr(default, attribute))
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not low <= value <= high:
            raise SettingsError(
                f"{name} must be a number of seconds from {low:g} to {high:g}, got {text!r}"
            )
        return value

    limits = ConnectionLimits(
        max_url_bytes=size("max_url_bytes", 256, 1_048_576),
        max_header_bytes=size("max_header_bytes", 256, 1_048_576),
        max_head_bytes=size("max_head_bytes", 1024, 4_194_304),
        max_headers=size("max_headers", 8, 10_000),
        header_timeout=seconds("header_timeout", 0.1, 3600),
        body_timeout=seconds("body_timeout", 0.1, 3600),
        keepalive_timeout=seconds("keepalive_timeout", 0.1, 3600),
        max_connections=(
            None
            if get(names["max_connections"]) is None
            else size("max_connections", 16, 10_000_000)
        ),
    )
    for attribute in ("max_url_bytes", "max_header_bytes"):
        if getattr(limits, attribute) > limits.max_head_bytes:
            raise SettingsError(
                f"{names[attribute]} ({getattr(limits, attribute)}) cannot exceed "
                f"GATEWAY_MAX_HEAD_BYTES ({limits.max_head_bytes}), which bounds the whole head"
            )
    return limits


def _seconds(text: str | None, name: str, default: float, most: float) -> float:
    """A duration in seconds from 0 to ``most``, or ``default`` when unset."""
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {text!r}") from None
    if not 0 <= value <= most:
        raise SettingsError(f"{name} must be between 0 and {most:g} seconds, got {text!r}")
    return value


def _response_cache_settings(get: Callable[[str], str | None]) -> ResponseCacheSettings:
    """``GATEWAY_CACHE_TTL`` (whole seconds, 0 = off), ``GATEWAY_CACHE_MAX_ENTRIES`` and
    ``GATEWAY_CACHE_MAX_BYTES``."""
    return ResponseCacheSettings(
        ttl=_whole_number("GATEWAY_CACHE_TTL", get, 0, 0, MAX_CACHE_TTL),
        max_entries=_whole_number(
            "GATEWAY_CACHE_MAX_ENTRIES", get, DEFAULT_CACHE_MAX_ENTRIES, 1, 10**6
        ),
        max_bytes=_whole_number(
            "GATEWAY_CACHE_MAX_BYTES", get, DEFAULT_CACHE_MAX_BYTES, 1_048_576, 2**34
        ),
    )


def _redis_url(get: Callable[[str], str | None]) -> str | None:
    """``GATEWAY_REDIS_URL``: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://``
    (TLS) or ``unix:///path/to/socket``. The message never repeats the URL (it may hold a
    password)."""
    url = get("GATEWAY_REDIS_URL")
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
    elif parts.path not in ("", "/") and not parts.path[1:].isdigit():
        raise SettingsError(f"{expected}: the database must be a number, as in /0")
    return url


def _tracing_settings(get: Callable[[str], str | None]) -> TracingSettings | None:
    """``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT`` (an http(s)
    URL) turns tracing on, unless ``OTEL_SDK_DISABLED=true``; it needs the ``[otel]`` extra and
    OTLP over HTTP (``OTEL_EXPORTER_OTLP_PROTOCOL`` unset or ``http/protobuf``)."""
    names = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    name, endpoint = next(((n, get(n)) for n in names if get(n)), (names[1], None))
    if endpoint is None or _flag("OTEL_SDK_DISABLED", get):
        return None
    if not endpoint.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http(s) URL, got {endpoint!r}")
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = get(variable)
        if protocol is not None and protocol != "http/protobuf":
            raise SettingsError(
                f"{variable}={protocol!r}: the gateway exports spans over OTLP/HTTP only; "
                "set it to 'http/protobuf' (a collector's port 4318) or unset it"
            )
    import importlib.util

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
