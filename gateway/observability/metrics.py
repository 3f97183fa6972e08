"""Prometheus metrics: what the gateway does, and what Kombo does to it (README "Operations").

The metrics are module-level, as prometheus-client expects; ``GET /metrics``
(:func:`metrics_endpoint`) exposes them in the Prometheus text format. With ``serve --workers
N`` every worker writes its samples to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode, chosen by that variable when prometheus-client is first imported), and a
scrape answered by any worker adds up all of them. ``serve`` prepares that directory
(:func:`prepare_multiprocess_dir`) before the workers start.

No label carries a secret, an integration id or unbounded client input: operation names are
admitted only from documents that validated, only GraphQL names of at most 64 characters, and
only the first :data:`MAX_OPERATIONS` distinct ones per process (then ``other``); error codes
likewise (:class:`BoundedLabel`). Upstream endpoints are paths such as ``/ats/interviews``,
never a URL with an integration or a query string.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import (
    BAD_REQUEST,
    CLIENT_DISCONNECTED,
    INTERNAL_ERROR,
    OUTCOMES,
    UPSTREAM_FAILURE,
    code_policy,
)
from gateway.kombo.errors import KomboAPIError
from gateway.kombo.observer import Attempt, KomboObserver, is_rate_limited
from gateway.live.observer import LiveObserver

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
MAX_OPERATIONS = 100
"""Distinct operation names one process labels; later ones count as ``other``."""
MAX_ERROR_CODES = 100
"""Distinct error codes one process labels; later ones count as ``other``."""

# No `*_created` series: they double the exposition, Prometheus ignores them in the text format,
# and multiprocess mode has none anyway (so one worker or several expose the same series).
disable_created_metrics()

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250)

GRAPHQL_REQUESTS = Counter(
    "kombo_gateway_graphql_requests",
    "GraphQL requests answered, by operation name and outcome "
    f"({', '.join((*OUTCOMES, CLIENT_DISCONNECTED))}).",
    ["operation", "outcome"],
)
GRAPHQL_DURATION = Histogram(
    "kombo_gateway_graphql_request_duration_seconds",
    "Time from receiving a GraphQL request to the end of its response, by operation name.",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "kombo_gateway_graphql_errors",
    "Errors in GraphQL responses, by extensions.code (Kombo's codes verbatim).",
    ["code"],
)
UPSTREAM_REQUESTS = Counter(
    "kombo_gateway_upstream_requests",
    "HTTP requests to Kombo (each retry counts), by endpoint and HTTP status "
    "(or timeout, connection_error, cancelled, ... when no answer came).",
    ["endpoint", "status"],
)
UPSTREAM_DURATION = Histogram(
    "kombo_gateway_upstream_request_duration_seconds",
    "Time from sending an HTTP request to Kombo to its answer, by endpoint.",
    ["endpoint"],
    buckets=_LATENCY_BUCKETS,
)
UPSTREAM_RETRIES = Counter(
    "kombo_gateway_upstream_retries",
    "Retries of upstream requests, by endpoint and reason "
    "(rate_limit, remote_unavailable, server_error, timeout, connection_error).",
    ["endpoint", "reason"],
)
RATE_LIMIT_WAITS = Counter(
    "kombo_gateway_upstream_rate_limit_waits",
    "Waits before retrying a request Kombo refused as over a rate or concurrency limit.",
    ["endpoint"],
)
RATE_LIMIT_WAIT_SECONDS = Counter(
    "kombo_gateway_upstream_rate_limit_wait_seconds",
    "Seconds spent waiting before retrying rate-limited requests.",
    ["endpoint"],
)
DATALOADER_BATCH_SIZE = Histogram(
    "kombo_gateway_dataloader_batch_size",
    "Keys per DataLoader batch (one upstream request each), by loader.",
    ["loader"],
    buckets=_BATCH_BUCKETS,
)
CACHE_LOOKUPS = Counter(
    "kombo_gateway_cache_lookups",
    "Response-cache lookups, by result (hit or miss).",
    ["result"],
)
"""Incremented for the response cache by :meth:`MetricsObserver.cache_lookup`."""


HTTP_CONNECTIONS = Gauge(
    "kombo_gateway_http_connections",
    "Client connections open, per process (with several workers, one series per worker's pid: "
    "how evenly the supervisor deals connections).",
    multiprocess_mode="liveall",
)
LIVE_SUBSCRIBERS = Gauge(
    "kombo_gateway_live_subscribers",
    "Live subscriptions open (Subscription.changes), every worker's added up.",
    multiprocess_mode="livesum",
)
LIVE_REFRESHES = Counter(
    "kombo_gateway_live_refreshes",
    "Refreshes of one (integration, model) for live subscribers, by trigger (webhook, poll) "
    "and outcome (ok, error); their upstream requests count in kombo_gateway_upstream_requests.",
    ["trigger", "outcome"],
)
LIVE_RECORDS_PUBLISHED = Counter(
    "kombo_gateway_live_records_published",
    "Changed records a refresh published to the subscribers of every replica, by model.",
    ["model"],
)
LIVE_DELIVERIES = Counter(
    "kombo_gateway_live_deliveries",
    "Changes queued for one live subscriber.",
)
LIVE_DROPS = Counter(
    "kombo_gateway_live_drops",
    "Changes not delivered to a live subscriber, by reason (overflow: its queue was full and "
    "the subscription ended).",
    ["reason"],
)
LIVE_WEBHOOKS = Counter(
    "kombo_gateway_live_webhooks",
    "POST /webhooks/kombo answers, by outcome (accepted, duplicate, ignored, unauthorized, "
    "malformed, too_large).",
    ["outcome"],
)


class LiveMetrics(LiveObserver):
    """The live feed's counts as the ``kombo_gateway_live_*`` metrics."""

    def subscribers(self, delta: int) -> None:
        LIVE_SUBSCRIBERS.inc(delta)

    def refreshed(self, trigger: str, ok: bool) -> None:
        LIVE_REFRESHES.labels(trigger, "ok" if ok else "error").inc()

    def published(self, model: str, count: int) -> None:
        LIVE_RECORDS_PUBLISHED.labels(model).inc(count)

    def delivered(self, count: int) -> None:
        LIVE_DELIVERIES.inc(count)

    def dropped(self, reason: str, count: int) -> None:
        LIVE_DROPS.labels(reason).inc(count)


class BoundedLabel:
    """Turns client-influenced values into label values of bounded cardinality.

    A value is kept when it matches ``pattern`` and is one of the first ``limit`` distinct
    values seen by this process; otherwise it becomes ``fallback``.
    """

    def __init__(self, pattern: str, limit: int, fallback: str = "other") -> None:
        self._pattern = re.compile(pattern)
        self._limit = limit
        self._fallback = fallback
        self._admitted: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self._admitted:
            return value
        if len(self._admitted) >= self._limit or not self._pattern.fullmatch(value):
            return self._fallback
        self._admitted.add(value)
        return value


_operation_label = BoundedLabel(r"[A-Za-z_][A-Za-z0-9_]{0,63}", MAX_OPERATIONS)
_code_label = BoundedLabel(r"[A-Z][A-Z0-9_]{0,31}(\.[A-Z0-9_]{1,32}){0,2}", MAX_ERROR_CODES)


def operation_label(name: str | None, validated: bool) -> str:
    """The ``operation`` label: the operation's name when its document validated,
    ``anonymous`` for a validated document without a name, ``other`` otherwise."""
    if not validated:
        return "other"
    if not name:
        return "anonymous"
    return _operation_label(name)


def outcome(error_codes: Iterable[str], status: int) -> str:
    """A request's outcome, the gravest of its errors' (:func:`gateway.errors.code_policy`):
    ``internal_error`` (a bug, or a 5xx without a code), ``upstream_error`` (Kombo's codes,
    ``UPSTREAM_*``), ``unauthorized``, ``bad_request`` (every other code), or ``ok``."""
    gravest = max((OUTCOMES.index(code_policy(code).outcome) for code in error_codes), default=0)
    if status >= 500 and gravest < OUTCOMES.index(UPSTREAM_FAILURE):
        return INTERNAL_ERROR
    if status >= 400 and gravest == 0:
        return BAD_REQUEST
    return OUTCOMES[gravest]


def observe_graphql_request(
    operation: str | None,
    validated: bool,
    error_codes: Iterable[str],
    request_outcome: str,
    seconds: float,
) -> None:
    """Count one GraphQL request (see :func:`operation_label`); ``request_outcome`` is
    :func:`outcome`'s, or :data:`CLIENT_DISCONNECTED`."""
    codes = tuple(error_codes)
    label = operation_label(operation, validated)
    GRAPHQL_REQUESTS.labels(label, request_outcome).inc()
    GRAPHQL_DURATION.labels(label).observe(seconds)
    for code in codes:
        GRAPHQL_ERRORS.labels(_code_label(code)).inc()


def observe_batch(loader: str, size: int) -> None:
    """One DataLoader batch of ``size`` keys."""
    DATALOADER_BATCH_SIZE.labels(loader).observe(size)


class MetricsObserver(KomboObserver):
    """Counts the Kombo client's requests, retries and rate-limit waits."""

    def attempt(self, attempt: Attempt) -> _AttemptMetrics:
        return _AttemptMetrics(attempt)

    def retrying(self, attempt: Attempt, delay: float, reason: str) -> None:
        error = attempt.error
        if error is not None and is_rate_limited(error):
            why = "rate_limit"
            RATE_LIMIT_WAITS.labels(attempt.endpoint).inc()
            RATE_LIMIT_WAIT_SECONDS.labels(attempt.endpoint).inc(delay)
        elif isinstance(error, KomboAPIError):
            why = "remote_unavailable"
        elif attempt.status is not None:
            why = "server_error"
        else:
            why = attempt.outcome
        UPSTREAM_RETRIES.labels(attempt.endpoint, why).inc()

    def cache_lookup(self, endpoint: str, hit: bool) -> None:
        CACHE_LOOKUPS.labels("hit" if hit else "miss").inc()


class _AttemptMetrics:
    """Records one attempt when it ends (a plain class: cheaper than a generator context)."""

    __slots__ = ("attempt",)

    def __init__(self, attempt: Attempt) -> None:
        self.attempt = attempt

    def __enter__(self) -> Attempt:
        return self.attempt

    def __exit__(self, *exc: object) -> None:
        attempt = self.attempt
        UPSTREAM_REQUESTS.labels(attempt.endpoint, attempt.outcome).inc()
        if attempt.status is not None or attempt.error is not None:  # not when cancelled
            UPSTREAM_DURATION.labels(attempt.endpoint).observe(attempt.duration)


async def metrics_endpoint(_request: Request) -> Response:
    """``GET /metrics``: every metric in the Prometheus text format (0.0.4); in multiprocess
    mode, the sum over every worker's files."""
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE)
    if directory:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    return Response(body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})


def prepare_multiprocess_dir(env: dict[str, str] | os._Environ[str], workers: int) -> str | None:
    """Make ``PROMETHEUS_MULTIPROC_DIR`` ready before worker processes start; its path, or
    ``None`` when neither it is set nor ``workers`` exceeds 1 (one process needs no files).

    A directory named by the variable is emptied of earlier runs' files (stale counts would be
    added to the new ones), except this process's own; without it, with several workers, a
    fresh temporary directory is made, exported in ``env`` for the workers (which start after
    this), and removed when this process exits.
    """
    named = env.get(MULTIPROCESS_DIR_VARIABLE)
    if named:
        directory = Path(named)
        directory.mkdir(parents=True, exist_ok=True)
        own = f"_{os.getpid()}.db"
        for stale in directory.glob("*.db"):
            if not stale.name.endswith(own):
                stale.unlink(missing_ok=True)
        return str(directory)
    if workers <= 1:
        return None
    created = tempfile.mkdtemp(prefix="kombo-gateway-metrics-")
    atexit.register(shutil.rmtree, created, ignore_errors=True)
    env[MULTIPROCESS_DIR_VARIABLE] = created
    return created


def forget_process(pid: int) -> None:
    """Drop the live gauges (connections, subscribers) of worker ``pid``, which has died:
    prometheus-client's ``mark_process_dead``, in multiprocess mode only."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
