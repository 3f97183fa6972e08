"""The Kombo REST client: pooled connections (:mod:`gateway.kombo.transport`), typed pages,
typed errors.

Every call goes through, in order: the response cache when one is configured (a hit ends the
call there, :mod:`gateway.kombo.cache`), request coalescing (identical calls in flight share one
request, :mod:`gateway.kombo.coalesce`), retries with backoff (:mod:`gateway.kombo.retry`), and,
per attempt, a slot of the integration's in-flight bound (:mod:`gateway.kombo.limits`) and the
per-attempt ``total_timeout``. A caller's :class:`~gateway.kombo.deadline.Deadline` bounds all of
it: past it the call fails with :class:`~gateway.kombo.errors.KomboDeadlineExceeded`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from gateway.kombo.body import ACCEPT_ENCODING, read_body
from gateway.kombo.cache import MemoryPageStore, PageCache, PageCacheSettings, PageStore
from gateway.kombo.catalog import CATALOG
from gateway.kombo.coalesce import Coalescer, Flight
from gateway.kombo.deadline import Deadline
from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboError,
    KomboMalformedResponse,
    KomboRetriesExhausted,
    KomboServerError,
    KomboTimeout,
)
from gateway.kombo.limits import InFlightLimiter
from gateway.kombo.observer import NO_OBSERVER, Attempt, KomboObserver
from gateway.kombo.parsing import parse_page
from gateway.kombo.query import ListQuery, page_params
from gateway.kombo.records import Page
from gateway.kombo.retry import RetryPolicy, is_retryable, requested_wait
from gateway.kombo.sender import Sender
from gateway.kombo.transport import AiohttpTransport

log = logging.getLogger(__name__)

DEFAULT_MAX_RESPONSE_BYTES = 16 * 1_048_576
"""16 MiB: the sandbox's 250-interview page is 0.34 MB (1.4 KB an interview); this leaves
~67 KB an interview for what ``remote_data`` carries from the ATS."""


class TimeoutSettings(Protocol):
    """Upstream timeouts in seconds: httpx's ``connect``/``read``/``write``/``pool``, and
    ``total``, the deadline of one request (one attempt): httpx's timeouts are per phase, a
    trickling body evades them. A caller's own deadline, when shorter, wins. :class:`Timeouts`
    is one; the gateway's ``Timeouts`` settings another."""

    @property
    def connect(self) -> float: ...

    @property
    def read(self) -> float: ...

    @property
    def write(self) -> float: ...

    @property
    def pool(self) -> float: ...

    @property
    def total(self) -> float: ...


@dataclass(frozen=True)
class Timeouts:
    """The client's default :class:`TimeoutSettings`."""

    connect: float = 5.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 5.0
    total: float = 20.0


@dataclass(frozen=True)
class KomboConfig:
    """How to reach Kombo. ``transport`` replaces the network (the in-process sandbox, tests).

    The parts are read through protocols (:class:`TimeoutSettings`,
    :class:`~gateway.kombo.cache.PageCacheSettings`), so a configuration's own objects are
    handed over as they are.
    """

    api_key: str = field(repr=False)
    base_url: str
    timeouts: TimeoutSettings = field(default_factory=Timeouts)
    max_connections: int = 100
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_in_flight_per_integration: int = 8
    """Upstream requests of one integration in flight at once; more wait for a slot."""
    transport: httpx.AsyncBaseTransport | None = None
    """``None``: the network, through :class:`~gateway.kombo.transport.AiohttpTransport`."""
    cache: PageCacheSettings | None = None
    """The short-TTL response cache; ``None``: off (every call goes upstream)."""
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    """Longest answer read, after decompression; a longer one is
    :class:`~gateway.kombo.errors.KomboResponseTooLarge` (``GATEWAY_UPSTREAM_MAX_BYTES``)."""


_PageKey = tuple[str, str, tuple[tuple[str, str], ...]]
T = TypeVar("T")


class KomboClient:
    """Calls Kombo's ATS API. Create with :meth:`open`, close with :meth:`aclose`.

    ``sleep`` waits between retries (replaceable for tests).
    """

    observer: KomboObserver = NO_OBSERVER
    """Told of every call, HTTP request, retry and cache lookup (:mod:`gateway.kombo.observer`);
    the app sets its metrics and tracing observers here."""

    def __init__(
        self,
        sender: Sender,
        total_timeout: float = 20.0,
        *,
        retry: RetryPolicy | None = None,
        max_in_flight_per_integration: int = 8,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        cache: PageCache | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._sender = sender
        self._max_response_bytes = max_response_bytes
        self.cache = cache
        """The response cache consulted before any upstream call, if any (its counters are
        read by metrics)."""
        self._total_timeout = total_timeout
        self._retry = retry if retry is not None else RetryPolicy()
        self._limiter = InFlightLimiter(max_in_flight_per_integration)
        self._pages: Coalescer[_PageKey, Page] = Coalescer()
        self._sleep = sleep

    @classmethod
    def open(cls, config: KomboConfig, *, page_store: PageStore | None = None) -> KomboClient:
        """A client with its own connection pool; the app's lifespan owns and closes it.

        With ``config.cache``, pages are cached in ``page_store`` (a shared one, such as
        :class:`~gateway.kombo.cache.RedisPageStore`) or else in this process's memory.
        """
        cache = None
        if config.cache is not None:
            store = page_store or MemoryPageStore(config.cache.max_entries, config.cache.max_bytes)
            cache = PageCache.for_upstream(
                store, config.cache.ttl, base_url=config.base_url, api_key=config.api_key
            )
        transport = config.transport or AiohttpTransport(max_connections=config.max_connections)
        sender = Sender(
            transport,
            config.base_url,
            headers={
                "Authorization": f"Bearer {config.api_key}",
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
                "User-Agent": "kombo-gateway/0.1",
            },
            timeout={
                "connect": config.timeouts.connect,
                "read": config.timeouts.read,
                "write": config.timeouts.write,
                "pool": config.timeouts.pool,
            },
        )
        return cls(
            sender,
            total_timeout=config.timeouts.total,
            retry=config.retry,
            max_in_flight_per_integration=config.max_in_flight_per_integration,
            cache=cache,
            max_response_bytes=config.max_response_bytes,
        )

    async def aclose(self) -> None:
        await self._sender.aclose()

    async def list_records(
        self,
        integration_id: str,
        query: ListQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        deadline: Deadline | None = None,
        on_upstream_call: Callable[[], object] | None = None,
        use_cache: bool = True,
    ) -> Page:
        """One page of ``query``'s endpoint for one integration, by ``deadline`` if given.

        A page in the response cache is answered from there. Otherwise an identical call
        already in flight (same integration and parameters, cursor and page size included) is
        joined instead of repeated. ``on_upstream_call`` is called first, in the caller's task,
        when the page is not cached (a cache hit is no upstream call); what it raises (a
        request's exhausted call budget) stops the call. ``use_cache=False`` neither reads nor
        fills the response cache (the live feed's refreshes: a page up to a TTL old would hide
        changes made since).
        """
        path = query.path
        params = page_params(query, page_size, cursor)
        cache_key = None
        if self.cache is not None and use_cache:
            cache_key = self.cache.key(path, integration_id, params)
            cached = await self.cache.get(cache_key)
            self.observer.cache_lookup(path, hit=cached is not None)
            if cached is not None:
                return cached
        if on_upstream_call is not None:
            on_upstream_call()
        key: _PageKey = (path, integration_id, tuple(sorted(params.items())))

        def call(flight: Flight) -> Awaitable[Page]:
            return self._fetch_page(path, integration_id, params, flight, cache_key)

        try:
            return await self._pages.run(key, call, deadline)
        except KomboMalformedResponse as exc:
            # Logged by every request it reaches (coalesced ones too), under its own id.
            log.warning(
                "malformed answer from Kombo to GET %s (integration %s): %s",
                path,
                integration_id,
                exc,
            )
            raise

    async def _fetch_page(
        self,
        path: str,
        integration_id: str,
        params: dict[str, str],
        flight: Flight,
        cache_key: str | None,
    ) -> Page:
        """One page from Kombo, kept in the cache (when there is one) once it parsed."""
        model = CATALOG.by_path(path)
        if self.cache is None or cache_key is None:
            return await self._call(
                path, integration_id, params, flight, lambda body: parse_page(model, body)
            )

        def parse_keeping_body(body: Any) -> tuple[Page, bytes]:
            # The page, and its JSON again for the cache (re-encoding costs ~0.05 ms per 100
            # records; parsing first means a malformed body is never cached).
            return parse_page(model, body), orjson.dumps(body)

        page, body = await self._call(path, integration_id, params, flight, parse_keeping_body)
        await self.cache.put(cache_key, page, body)
        return page

    async def _call(
        self,
        path: str,
        integration_id: str,
        params: dict[str, str],
        flight: Flight,
        parse: Callable[[Any], T],
    ) -> T:
        """One logical call: attempts and waits, as the retry policy and the deadline allow."""
        with self.observer.call(path, integration_id):
            return await self._attempts(path, integration_id, params, flight, parse)

    async def _attempts(
        self,
        path: str,
        integration_id: str,
        params: dict[str, str],
        flight: Flight,
        parse: Callable[[Any], T],
    ) -> T:
        retries = 0
        while True:
            attempt = Attempt(path, integration_id, retries + 1)
            try:
                async with self._limiter.slot(integration_id):
                    return await self._attempt(attempt, params, parse)
            except KomboError as error:
                error.attempts = retries + 1
                decision = self._retry.decide(error, retries, flight.remaining())
                if not decision.retry:
                    if is_retryable(error):
                        log.warning(
                            "GET %s (integration %s) failed after %d attempt(s), "
                            "not retrying (%s): %s",
                            path,
                            integration_id,
                            retries + 1,
                            decision.reason,
                            error,
                        )
                    if isinstance(error, KomboAPIError) and is_retryable(error):
                        raise KomboRetriesExhausted(
                            error, attempts=retries + 1, reason=decision.reason
                        ) from error
                    raise
                delay = decision.delay
                assert delay is not None
                log.info(
                    "GET %s (integration %s) failed (%s); %s in %.2f s",
                    path,
                    integration_id,
                    error,
                    decision.reason,
                    delay,
                )
                self.observer.retrying(attempt, delay, decision.reason)
            await self._sleep(delay)
            retries += 1

    async def _attempt(
        self, attempt: Attempt, params: dict[str, str], parse: Callable[[Any], T]
    ) -> T:
        """One HTTP request and its answer, shown to the observer and logged (one line each)."""
        with self.observer.attempt(attempt):
            started = time.perf_counter()
            try:
                response, body = await self._send(
                    attempt.endpoint, attempt.integration_id, params, attempt.headers
                )
                attempt.duration = time.perf_counter() - started
                attempt.status = response.status_code
                return parse(_decode(response, body))
            except KomboError as error:
                attempt.error = error
                raise
            finally:
                if attempt.status is None:
                    attempt.duration = time.perf_counter() - started
                _log_attempt(attempt)

    async def _send(
        self,
        path: str,
        integration_id: str,
        params: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """The answer and its decoded body, read as it arrives and never past
        ``max_response_bytes`` (:mod:`gateway.kombo.body`), by the per-attempt timeout."""
        try:
            async with asyncio.timeout(self._total_timeout):
                response = await self._sender.get(
                    path, params, {**(headers or {}), "X-Integration-Id": integration_id}
                )
                try:
                    return response, await read_body(response, self._max_response_bytes)
                finally:
                    # Unread (too large): the connection is dropped, not returned to the pool.
                    await response.aclose()
        except TimeoutError as exc:
            raise KomboTimeout(f"Kombo did not answer within {self._total_timeout:g}s") from exc
        except httpx.TimeoutException as exc:
            raise KomboTimeout(f"Kombo did not answer in time ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise KomboConnectionError(
                f"Kombo could not be reached ({type(exc).__name__})"
            ) from exc


def _log_attempt(attempt: Attempt) -> None:
    """One line per HTTP request to Kombo: INFO when it answered 2xx, WARNING otherwise."""
    error = attempt.error
    fields: dict[str, Any] = {
        "event": "upstream_call",
        "method": "GET",
        "endpoint": attempt.endpoint,
        "integration": attempt.integration_id,
        "status": attempt.status,
        "outcome": attempt.outcome,
        "duration_ms": round(attempt.duration * 1000, 1),
        "attempt": attempt.number,
    }
    if isinstance(error, KomboAPIError):
        fields["code"] = error.code
        fields["log_url"] = error.log_url
    elif error is not None:
        fields["error"] = str(error)
    level = logging.INFO if error is None else logging.WARNING
    if log.isEnabledFor(level):
        log.log(level, "upstream call", extra={"fields": fields})


def _decode(response: httpx.Response, content: bytes) -> Any:
    """The JSON body (``content``) of a success, or the matching :class:`KomboError` for
    anything else."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        body = None
        decoded = False
    else:
        decoded = True

    if response.is_success:
        if not decoded:
            raise KomboMalformedResponse(
                f"Kombo answered HTTP {response.status_code} with a body that is not JSON"
            )
        return body

    error = _error_body(body) if decoded else None
    failure: KomboError
    if error is not None:
        failure = error_from_body(response.status_code, error)
    elif response.status_code >= 500:
        failure = KomboServerError(
            f"Kombo answered HTTP {response.status_code} without an error body",
            status=response.status_code,
        )
    else:
        failure = KomboAPIError(
            status=response.status_code,
            code=None,
            title=None,
            message=f"Kombo answered HTTP {response.status_code} without an error body",
            log_url=None,
        )
    failure.retry_after = requested_wait(response.headers)
    raise failure


def _error_body(body: Any) -> dict[str, Any] | None:
    if not isinstance(body, dict) or body.get("status") != "error":
        return None
    error = body.get("error")
    return error if isinstance(error, dict) else None


def error_from_body(status: int, error: dict[str, Any]) -> KomboAPIError:
    """Kombo's ``error`` object as a :class:`KomboAPIError`, tolerating missing or odd fields."""

    def text(key: str) -> str | None:
        value = error.get(key)
        return value if isinstance(value, str) and value else None

    return KomboAPIError(
        status=status,
        code=text("code"),
        title=text("title"),
        message=text("message") or text("title") or f"Kombo answered HTTP {status}",
        log_url=text("log_url"),
    )
