"""The embedded sandbox upstream: a spec-faithful fake of Kombo's ``GET /ats/interviews``.

``create_sandbox_app()`` builds a Starlette app that serves :mod:`gateway.sandbox.data` under
``/v1`` (mirroring ``https://api.kombo.dev/v1``). It knows nothing about GraphQL. The semantics
chosen where the spec leaves room:

Checks, in this order (the first failure answers):
    1. ``Authorization: Bearer <key>``: missing, not a bearer, or (when ``api_key`` is set) a
       different key → 401 ``PLATFORM.AUTHENTICATION_INVALID``. With ``api_key=None`` any
       non-empty bearer token is accepted.
    2. ``X-Integration-Id``: missing or empty → 400 ``PLATFORM.INPUT_INVALID``; unknown → 404
       ``PLATFORM.INTEGRATION_NOT_FOUND``;
       :data:`~gateway.sandbox.data.MODEL_NOT_AVAILABLE_INTEGRATION` → 403
       ``INTEGRATION.MODEL_NOT_AVAILABLE``.
    3. Query parameters → 400 ``PLATFORM.INPUT_INVALID`` with a message naming the parameter:
       an unknown or repeated parameter; ``page_size`` not an integer in 1..250 (default 100);
       ``updated_after`` not matching ``^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?)?Z?$``
       or not a real instant; ``include_deleted`` / ``ignore_unsupported_filters`` not exactly
       ``true`` or ``false``; ``ids`` / ``remote_ids`` / ``job_ids`` empty or with an empty entry
       (``a,,b``); a ``cursor`` that is malformed, tampered with, or replayed with any other
       query parameter or integration.

Filters (AND across parameters, OR within one list, as the spec says):
    - ``ids`` match the interview's ``id``; ``remote_ids`` its ``remote_id`` (``null`` never
      matches); ``job_ids`` its ``application.job.id`` (no application or no job never matches).
      Values are compared verbatim (no trimming, case-sensitive).
    - ``updated_after`` keeps interviews whose hidden ``updated_at`` (record *or* nested data
      changed) is **strictly after** the given instant (``>``). A value without ``Z`` is read as
      UTC; a date alone means midnight UTC; fractional digits beyond microseconds are truncated.
    - Deleted interviews (``remote_deleted_at`` set) are hidden unless ``include_deleted=true``.
    - A filter the integration does not support (:data:`~gateway.sandbox.data.UNSUPPORTED_FILTERS`)
      empties the result, unless ``ignore_unsupported_filters=true``, which ignores it.

Pagination: results keep the upstream order of :func:`~gateway.sandbox.data.interviews_for`.
``next`` is an opaque cursor (standard base64 with padding, like Kombo's example, so it may
contain ``+``, ``/`` and ``=`` and must be URL-encoded): an offset plus an HMAC over the offset,
the integration and every other query parameter exactly as sent (so an omitted ``page_size`` and
an explicit ``page_size=100`` are different queries). ``next`` is ``null`` on the last page, also
when the results end exactly at a page boundary. The HMAC key is fixed, so cursors are
deterministic and survive restarts.

Test controls (not part of Kombo's API): ``GET``/``DELETE /__sandbox/requests`` read and clear the
log of requests to ``/v1`` (with each one's W3C ``traceparent`` header, when it had one);
``POST``/``GET``/``DELETE /__sandbox/faults`` queue, list and clear canned answers served (and
logged) instead of the real ones for the next requests to ``/v1/ats/interviews``.
``GET /healthz`` answers 200. ``latency`` delays every interviews answer.

Faults, for testing a client's resilience end to end:
    - a queued fault ``{status, body | raw, headers, times, delay}`` answers the next ``times``
      requests with that status, body and headers (``Retry-After``, ``ratelimit-reset``, ...)
      after ``delay`` seconds; ``{"delay": s}`` alone answers normally, ``s`` seconds late (a
      hang, when ``s`` exceeds the client's patience);
    - ``max_in_flight``: beyond that many interviews requests being answered at once, 429
      ``PLATFORM.CONCURRENCY_LIMIT_EXCEEDED``. ``GET /__sandbox/stats`` reports the requests in
      flight, the peak and the number refused (``DELETE /__sandbox/requests`` resets them);
    - standing scenarios (:data:`FAULT_SCENARIOS`, e.g. ``rate-limit``), chosen when the app is
      created: ``python -m gateway sandbox --faults rate-limit`` or ``SANDBOX_FAULTS`` for the
      gateway's embedded sandbox.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.sandbox.data import (
    INTEGRATIONS,
    MODEL_NOT_AVAILABLE_INTEGRATION,
    UNSUPPORTED_FILTERS,
    interviews_for,
)

__all__ = ["FAULT_SCENARIOS", "create_sandbox_app"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 250
PARAMETERS = (
    "cursor",
    "page_size",
    "updated_after",
    "include_deleted",
    "ignore_unsupported_filters",
    "ids",
    "remote_ids",
    "job_ids",
)
"""The query parameters of ``GET /ats/interviews``, and no others."""

_LIST_PARAMETERS = ("ids", "remote_ids", "job_ids")
_UPDATED_AFTER = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?Z?", re.ASCII
)
_DIGITS = re.compile(r"[0-9]+")
_CURSOR_KEY = b"kombo-gateway sandbox cursor v1"
_CURSOR_VERSION = 1
_CURSOR_MAC_BYTES = 15  # 20 bytes in all: one "=" of padding, like Kombo's example
_LOG_URL = "https://app.kombo.dev/sandbox/logs?interactionId={}"
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class _InputInvalid(Exception):
    """A request the spec rejects with 400 ``PLATFORM.INPUT_INVALID``."""


# --- the query --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Query:
    page_size: int
    offset: int
    updated_after: datetime | None
    include_deleted: bool
    ignore_unsupported_filters: bool
    lists: Mapping[str, frozenset[str]]  # the list filters that were given
    binding: bytes  # what a cursor is bound to: integration and every non-cursor parameter


def _invalid(name: str, problem: str) -> _InputInvalid:
    return _InputInvalid(f"Invalid value for query parameter `{name}`: {problem}")


def _parse_page_size(raw: str) -> int:
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise _invalid("page_size", f"expected an integer from 1 to {MAX_PAGE_SIZE}, got {raw!r}.")
    return int(raw)


def _parse_updated_after(raw: str) -> datetime:
    match = _UPDATED_AFTER.fullmatch(raw)
    if match is None:
        raise _invalid("updated_after", f"expected YYYY-MM-DDTHH:mm:ss.sssZ, got {raw!r}.")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise _invalid("updated_after", f"{raw!r} is not a valid date and time ({exc}).") from exc


def _parse_bool(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _invalid(name, f"expected 'true' or 'false', got {raw!r}.")
    return raw == "true"


def _parse_list(name: str, raw: str) -> frozenset[str]:
    values = raw.split(",")
    if "" in values:
        raise _invalid(name, f"expected a comma-separated list of non-empty values, got {raw!r}.")
    return frozenset(values)


def _parse_query(
    integration_id: str, items: Sequence[tuple[str, str]], cursors: _CursorCodec
) -> _Query:
    params: dict[str, str] = {}
    for name, value in items:
        if name not in PARAMETERS:
            raise _InputInvalid(
                f"Unknown query parameter `{name}`. Accepted: {', '.join(PARAMETERS)}."
            )
        if name in params:
            raise _InputInvalid(f"Query parameter `{name}` was given more than once.")
        params[name] = value

    bound = sorted((k, v) for k, v in params.items() if k != "cursor")
    binding = json.dumps([integration_id, bound], ensure_ascii=False).encode()
    page_size = params.get("page_size")
    updated_after = params.get("updated_after")
    cursor = params.get("cursor")
    return _Query(
        page_size=DEFAULT_PAGE_SIZE if page_size is None else _parse_page_size(page_size),
        updated_after=None if updated_after is None else _parse_updated_after(updated_after),
        include_deleted=_parse_bool("include_deleted", params.get("include_deleted", "false")),
        ignore_unsupported_filters=_parse_bool(
            "ignore_unsupported_filters", params.get("ignore_unsupported_filters", "false")
        ),
        lists={n: _parse_list(n, params[n]) for n in _LIST_PARAMETERS if n in params},
        binding=binding,
        offset=0 if cursor is None else cursors.decode(cursor, binding),
    )


class _CursorCodec:
    """Opaque cursors: ``base64(version | offset | HMAC(offset, binding))``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, offset: int, binding: bytes) -> bytes:
        message = offset.to_bytes(4, "big") + binding
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_CURSOR_MAC_BYTES]

    def encode(self, offset: int, binding: bytes) -> str:
        raw = bytes([_CURSOR_VERSION]) + offset.to_bytes(4, "big") + self._mac(offset, binding)
        return base64.b64encode(raw).decode("ascii")

    def decode(self, cursor: str, binding: bytes) -> int:
        """The offset in ``cursor``; ``_InputInvalid`` unless it was issued for ``binding``."""
        try:
            raw = base64.b64decode(cursor.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raw = b""
        if len(raw) == 5 + _CURSOR_MAC_BYTES and raw[0] == _CURSOR_VERSION:
            offset = int.from_bytes(raw[1:5], "big")
            if hmac.compare_digest(raw[5:], self._mac(offset, binding)):
                return offset
        raise _invalid(
            "cursor",
            "the cursor is malformed, or it was issued for other query parameters (a cursor is "
            "only valid with the exact page_size and filters that produced it).",
        )


# --- the data, prepared once ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One interview, serialized once, with what the filters look at."""

    json: bytes
    id: str
    remote_id: str | None
    job_id: str | None
    deleted: bool
    updated_at: datetime


def _entries(integration_id: str) -> tuple[_Entry, ...]:
    entries = []
    for interview in interviews_for(integration_id):
        payload = interview.payload
        job = (payload.get("application") or {}).get("job") or {}
        entries.append(
            _Entry(
                json=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
                id=payload["id"],
                remote_id=payload["remote_id"],
                job_id=job.get("id"),
                deleted=payload["remote_deleted_at"] is not None,
                updated_at=datetime.fromisoformat(interview.updated_at),
            )
        )
    return tuple(entries)


def _select(entries: Sequence[_Entry], query: _Query, unsupported: frozenset[str]) -> list[_Entry]:
    lists = dict(query.lists)
    for name in unsupported & lists.keys():
        if not query.ignore_unsupported_filters:
            return []
        del lists[name]
    ids, remote_ids, job_ids = (lists.get(n) for n in _LIST_PARAMETERS)
    after = query.updated_after
    return [
        e
        for e in entries
        if (query.include_deleted or not e.deleted)
        and (ids is None or e.id in ids)
        and (remote_ids is None or e.remote_id in remote_ids)
        and (job_ids is None or e.job_id in job_ids)
        and (after is None or e.updated_at > after)
    ]


# --- faults -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Fault:
    """A canned answer; with ``status`` ``None``, the normal answer ``delay`` seconds late."""

    status: int | None
    body: Any
    raw: str | None
    headers: dict[str, str]
    times: int
    delay: float

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _Fault.__slots__}

    def response(self) -> Response | None:
        """The canned answer, or ``None`` to answer normally."""
        if self.status is None:
            return None
        if self.raw is not None:
            content = self.raw.encode()
        elif self.body is not None:
            content = json.dumps(self.body, ensure_ascii=False).encode()
        else:
            content = b""
        return Response(content, self.status, self.headers, media_type="application/json")


def _parse_fault(spec: Any) -> _Fault:
    if not isinstance(spec, dict):
        raise ValueError("expected a JSON object")
    unknown = spec.keys() - set(_Fault.__slots__)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    status, raw, headers = spec.get("status"), spec.get("raw"), spec.get("headers") or {}
    times, delay = spec.get("times", 1), spec.get("delay", 0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise ValueError("`delay` must be a non-negative number of seconds")
    pass_through = status is None and raw is None and spec.get("body") is None and not headers
    if pass_through and not delay:
        raise ValueError("`status` is required (or `delay` alone, for a late normal answer)")
    if not pass_through and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        raise ValueError("`status` must be an HTTP status code")
    if raw is not None and not isinstance(raw, str):
        raise ValueError("`raw` must be a string or null")
    if raw is not None and spec.get("body") is not None:
        raise ValueError("give `body` or `raw`, not both")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError("`headers` must map strings to strings")
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError("`times` must be a positive integer")
    return _Fault(status, spec.get("body"), raw, headers, times, float(delay))


def _kombo_error_body(code: str, title: str, message: str) -> dict[str, Any]:
    return {
        "status": "error",
        "error": {"code": code, "title": title, "message": message, "log_url": None},
    }


@dataclass(frozen=True, slots=True)
class _Scenario:
    """A standing fault: every ``period``-th interviews request gets ``fault``; plus latency
    and a concurrency limit."""

    description: str
    period: int = 1
    fault: _Fault | None = None
    latency: float = 0.0
    max_in_flight: int | None = None


FAULT_SCENARIOS: Mapping[str, _Scenario] = {
    "rate-limit": _Scenario(
        "every 2nd request: 429 PLATFORM.RATE_LIMIT_EXCEEDED with Retry-After: 1",
        period=2,
        fault=_Fault(
            429,
            _kombo_error_body(
                "PLATFORM.RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded.",
                "You have exceeded the rate limit of the sandbox. Retry after 1 second.",
            ),
            None,
            {"Retry-After": "1"},
            1,
            0.0,
        ),
    ),
    "flaky": _Scenario(
        "every 2nd request: 502 with an HTML body (a proxy failing)",
        period=2,
        fault=_Fault(
            502, None, "<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}, 1, 0.0
        ),
    ),
    "down": _Scenario(
        "every request: 503 REMOTE.SERVICE_UNAVAILABLE",
        fault=_Fault(
            503,
            _kombo_error_body(
                "REMOTE.SERVICE_UNAVAILABLE",
                "The remote system is unavailable.",
                "The sandbox ATS is down for maintenance.",
            ),
            None,
            {},
            1,
            0.0,
        ),
    ),
    "malformed": _Scenario(
        "every 3rd request: 200 with a truncated JSON body",
        period=3,
        fault=_Fault(200, None, '{"status": "success", "data": {"next": null, "res', {}, 1, 0.0),
    ),
    "slow": _Scenario("every answer 2 s late", latency=2.0),
    "hang": _Scenario("every answer 120 s late (longer than any deadline)", latency=120.0),
    "busy": _Scenario(
        "at most 1 request in flight; more get 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
        max_in_flight=1,
    ),
}
"""Standing fault scenarios by name (``--faults`` / ``SANDBOX_FAULTS``, comma-separated)."""


# --- the app ----------------------------------------------------------------------------------


def _bearer_token(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class _Sandbox:
    """The state of one sandbox app: data, request log, fault queue, interaction counter."""

    def __init__(
        self,
        api_key: str | None,
        latency: float,
        max_in_flight: int | None,
        scenarios: Sequence[_Scenario],
    ) -> None:
        self.api_key = api_key
        self.latency = latency + sum(s.latency for s in scenarios)
        limits = [n for n in (max_in_flight, *(s.max_in_flight for s in scenarios)) if n]
        self.max_in_flight = min(limits) if limits else None
        self.standing = [(s.period, s.fault) for s in scenarios if s.fault is not None]
        self.entries = {integration: _entries(integration) for integration in INTEGRATIONS}
        self.cursors = _CursorCodec(_CURSOR_KEY)
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[_Fault] = deque()
        self.interactions = 100_000
        self.served = 0  # interviews requests, for the standing faults' periods
        self.in_flight = 0
        self.peak_in_flight = 0
        self.refused = 0

    def error(self, status: int, code: str | None, title: str | None, message: str) -> Response:
        self.interactions += 1
        body = {
            "status": "error",
            "error": {
                "code": code,
                "title": title,
                "message": message,
                "log_url": _LOG_URL.format(self.interactions),
            },
        }
        return JSONResponse(body, status)

    def authorized(self, request: Request) -> bool:
        token = _bearer_token(request.headers.get("authorization"))
        if token is None:
            return False
        if self.api_key is None:
            return True
        return hmac.compare_digest(token.encode(), self.api_key.encode())

    def record(self, request: Request) -> tuple[bool, str | None]:
        """Log the request; answer whether it is authorized and the integration it names."""
        authorized = self.authorized(request)
        integration_id = request.headers.get("x-integration-id")
        entry: dict[str, Any] = {
            "method": request.method,
            "path": request.url.path,
            "params": dict(request.query_params.multi_items()),
            "integration_id": integration_id,
            "authorization_ok": authorized,
        }
        traceparent = request.headers.get("traceparent")
        if traceparent is not None:  # W3C trace context, when the client sent one
            entry["traceparent"] = traceparent
        baggage = request.headers.get("baggage")
        if baggage is not None:  # W3C baggage: a client of ours should never forward it
            entry["baggage"] = baggage
        self.requests.append(entry)
        return authorized, integration_id

    def next_fault(self) -> _Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times == 0:
            self.faults.popleft()
        return fault

    def standing_fault(self) -> _Fault | None:
        self.served += 1
        for period, fault in self.standing:
            if self.served % period == 0:
                return fault
        return None

    async def interviews(self, request: Request) -> Response:
        authorized, integration_id = self.record(request)
        if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
            self.refused += 1
            return self.error(
                429,
                "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                "Concurrency limit exceeded.",
                f"At most {self.max_in_flight} requests may be in flight at once.",
            )
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            fault = self.next_fault() or self.standing_fault()
            delay = self.latency + (fault.delay if fault else 0.0)
            if delay > 0:
                await asyncio.sleep(delay)
            canned = fault.response() if fault is not None else None
            if canned is not None:
                return canned
            return self.answer(request, authorized, integration_id)
        finally:
            self.in_flight -= 1

    def answer(self, request: Request, authorized: bool, integration_id: str | None) -> Response:
        if not authorized:
            return self.error(
                401,
                "PLATFORM.AUTHENTICATION_INVALID",
                "The provided API key is invalid.",
                "Send your Kombo API key as `Authorization: Bearer <key>`.",
            )
        if not integration_id:
            return self.error(
                400,
                "PLATFORM.INPUT_INVALID",
                "The input is invalid.",
                "The `X-Integration-Id` header is required.",
            )
        if integration_id == MODEL_NOT_AVAILABLE_INTEGRATION:
            return self.error(
                403,
                "INTEGRATION.MODEL_NOT_AVAILABLE",
                "This data model isn't supported for the selected integration.",
                'The "interviews" model is not yet available for Lever. Please reach out to '
                "Kombo if you need this functionality.",
            )
        entries = self.entries.get(integration_id)
        if entries is None:
            return self.error(
                404,
                "PLATFORM.INTEGRATION_NOT_FOUND",
                "The integration could not be found.",
                f"No integration with the ID {integration_id!r} exists in this environment.",
            )
        try:
            query = _parse_query(integration_id, request.query_params.multi_items(), self.cursors)
        except _InputInvalid as exc:
            return self.error(400, "PLATFORM.INPUT_INVALID", "The input is invalid.", str(exc))

        selected = _select(entries, query, UNSUPPORTED_FILTERS.get(integration_id, frozenset()))
        end = query.offset + query.page_size
        page = selected[query.offset : end]
        next_cursor = self.cursors.encode(end, query.binding) if end < len(selected) else None
        body = b"".join(
            (
                b'{"status":"success","data":{"next":',
                json.dumps(next_cursor).encode(),
                b',"results":[',
                b",".join(entry.json for entry in page),
                b"]}}",
            )
        )
        return Response(body, media_type="application/json")

    async def unknown_route(self, request: Request) -> Response:
        self.record(request)
        return self.error(
            404, None, "Not found.", f"No route {request.method} {request.url.path} exists."
        )

    async def list_requests(self, request: Request) -> Response:
        return JSONResponse({"requests": self.requests})

    async def clear_requests(self, request: Request) -> Response:
        self.requests.clear()
        self.peak_in_flight = self.in_flight
        self.refused = 0
        return Response(status_code=204)

    async def stats(self, request: Request) -> Response:
        return JSONResponse(
            {
                "in_flight": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "refused_over_limit": self.refused,
                "max_in_flight": self.max_in_flight,
            }
        )

    async def add_fault(self, request: Request) -> Response:
        try:
            fault = _parse_fault(json.loads(await request.body()))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return JSONResponse({"error": f"invalid fault: {exc}"}, 400)
        self.faults.append(fault)
        return JSONResponse({"queued": sum(f.times for f in self.faults)}, 201)

    async def list_faults(self, request: Request) -> Response:
        return JSONResponse({"faults": [f.as_json() for f in self.faults]})

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(status_code=204)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_sandbox_app(
    api_key: str | None = None,
    latency: float = 0.0,
    max_in_flight: int | None = None,
    faults: Sequence[str] = (),
) -> Starlette:
    """A Starlette app serving Kombo's ``GET /v1/ats/interviews`` from the sandbox data.

    ``api_key``: the only bearer key accepted (``None``: any non-empty one). ``latency``: seconds
    added to every interviews answer (for benchmarks). ``max_in_flight``: interviews requests
    answered at once, beyond which 429 ``PLATFORM.CONCURRENCY_LIMIT_EXCEEDED`` (``None``: no
    limit). ``faults``: names of :data:`FAULT_SCENARIOS` to apply to every request. Each app has
    its own request log and fault queue.
    """
    unknown = [name for name in faults if name not in FAULT_SCENARIOS]
    if unknown:
        raise ValueError(
            f"unknown fault scenario(s) {', '.join(unknown)}; known: {', '.join(FAULT_SCENARIOS)}"
        )
    if max_in_flight is not None and max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1")
    sandbox = _Sandbox(api_key, latency, max_in_flight, [FAULT_SCENARIOS[n] for n in faults])
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        Route("/v1/ats/interviews", sandbox.interviews, methods=["GET"]),
        Route("/v1/{path:path}", sandbox.unknown_route, methods=_ALL_METHODS),
        Route("/__sandbox/requests", sandbox.list_requests, methods=["GET"]),
        Route("/__sandbox/requests", sandbox.clear_requests, methods=["DELETE"]),
        Route("/__sandbox/faults", sandbox.add_fault, methods=["POST"]),
        Route("/__sandbox/faults", sandbox.list_faults, methods=["GET"]),
        Route("/__sandbox/faults", sandbox.clear_faults, methods=["DELETE"]),
        Route("/__sandbox/stats", sandbox.stats, methods=["GET"]),
    ]
    return Starlette(routes=routes)
