"""The embedded sandbox upstream: a spec-faithful fake of Kombo's ten ATS read endpoints.

``create_sandbox_app()`` builds a Starlette app that serves :mod:`gateway.sandbox.data` under
``/v1`` (mirroring ``https://api.kombo.dev/v1``): one route per model of
:data:`gateway.kombo.catalog.CATALOG` (``GET /v1/ats/interviews``, ``/v1/ats/jobs``…), all
answered by one handler. It knows nothing about GraphQL. The semantics chosen where the spec
leaves room:

Checks, in this order (the first failure answers):
    1. ``Authorization: Bearer <key>``: missing, not a bearer, or (when ``api_key`` is set) a
       different key → 401 ``PLATFORM.AUTHENTICATION_INVALID``. With ``api_key=None`` any
       non-empty bearer token is accepted.
    2. ``X-Integration-Id``: missing or empty → 400 ``PLATFORM.INPUT_INVALID``; unknown → 404
       ``PLATFORM.INTEGRATION_NOT_FOUND``; an endpoint the integration lacks
       (:data:`~gateway.sandbox.data.MODELS_NOT_AVAILABLE`) → 403
       ``INTEGRATION.MODEL_NOT_AVAILABLE``.
    3. Query parameters → 400 ``PLATFORM.INPUT_INVALID`` with a message naming the parameter
       (:mod:`gateway.sandbox.params`).

Filters: :mod:`gateway.sandbox.selection`. Pagination: results keep the upstream order of
:func:`~gateway.sandbox.data.records_for`; ``next`` is an opaque cursor bound to its endpoint
(:mod:`gateway.sandbox.cursors`), ``null`` on the last page, also when the results end exactly
at a page boundary.

Test controls (not part of Kombo's API): ``GET``/``DELETE /__sandbox/requests`` read and clear the
log of requests to ``/v1`` (with each one's W3C ``traceparent`` header, when it had one);
``POST``/``GET``/``DELETE /__sandbox/faults`` queue, list and clear canned answers served (and
logged) instead of the real ones for the next requests to any ``/v1/ats/…`` endpoint
(:mod:`gateway.sandbox.faults`, which also holds the standing scenarios).
``POST /__sandbox/changes`` edits one record (JSON ``{"integration_id", "model", "id"?,
"delete"?}``: :mod:`gateway.sandbox.edits`; answers the edit, with its new ``changed_at``) and,
when the app has a ``webhooks`` target, posts a signed ``data-changed`` webhook there before
answering (:mod:`gateway.sandbox.webhooks`; the answer's ``webhook`` says how it went);
``GET /__sandbox/changes`` lists the edits made. With ``change_every``, the app's lifespan edits
one to three records of the default integration every that many seconds, with a webhook each
time (``make run``: ``SANDBOX_CHANGE_EVERY``).
``GET /healthz`` answers 200. ``latency`` delays every endpoint's answer. ``max_in_flight``:
beyond that many endpoint requests being answered at once, 429
``PLATFORM.CONCURRENCY_LIMIT_EXCEEDED``; ``GET /__sandbox/stats`` reports the requests in flight,
the peak and the number refused (``DELETE /__sandbox/requests`` resets them).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox.cursors import CURSOR_KEY, CursorCodec
from gateway.sandbox.data import (
    INTEGRATIONS,
    MODELS_NOT_AVAILABLE,
    UNSUPPORTED_FILTERS,
    has_integration,
    known_integrations,
)
from gateway.sandbox.edits import Edit, EditRefused, Edits
from gateway.sandbox.faults import FAULT_SCENARIOS, Fault, Scenario, parse_fault
from gateway.sandbox.params import InputInvalid, parse_query
from gateway.sandbox.selection import entries_for, select
from gateway.sandbox.webhooks import WebhookTarget, data_changed_body, send

__all__ = ["create_sandbox_app"]

log = logging.getLogger("gateway.sandbox")

_LOG_URL = "https://app.kombo.dev/sandbox/logs?interactionId={}"

_TIMER_MODELS = ("Interview",) * 3 + ("Application",) * 2 + ("Candidate",)
"""What the timer edits, weighted: mostly interviews (the README's subscription shows them)."""
_TIMER_DELETES = 0.1
"""The share of the timer's interview edits that delete the interview."""
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


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
        scenarios: Sequence[Scenario],
        webhooks: WebhookTarget | None = None,
    ) -> None:
        self.api_key = api_key
        self.edits = Edits()
        self.edits_made: list[dict[str, Any]] = []
        self.webhooks = webhooks
        self._webhook_failed = False
        self.latency = latency + sum(s.latency for s in scenarios)
        limits = [n for n in (max_in_flight, *(s.max_in_flight for s in scenarios)) if n]
        self.max_in_flight = min(limits) if limits else None
        self.standing = [(s.period, s.fault) for s in scenarios if s.fault is not None]
        for integration in known_integrations():  # ready before the first request (once a process)
            for model in CATALOG:
                if model.path not in MODELS_NOT_AVAILABLE.get(integration, ()):
                    entries_for(integration, model.name)
        self.cursors = CursorCodec(CURSOR_KEY)
        self.requests: list[dict[str, Any]] = []
        self.faults: deque[Fault] = deque()
        self.interactions = 100_000
        self.served = 0  # endpoint requests, for the standing faults' periods
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

    def next_fault(self) -> Fault | None:
        if not self.faults:
            return None
        fault = self.faults[0]
        fault.times -= 1
        if fault.times == 0:
            self.faults.popleft()
        return fault

    def standing_fault(self) -> Fault | None:
        self.served += 1
        for period, fault in self.standing:
            if self.served % period == 0:
                return fault
        return None

    def endpoint(self, model: Model) -> Callable[[Request], Awaitable[Response]]:
        """The handler of ``model``'s list endpoint."""

        async def handle(request: Request) -> Response:
            return await self.list_records(model, request)

        return handle

    async def list_records(self, model: Model, request: Request) -> Response:
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
            return self.answer(model, request, authorized, integration_id)
        finally:
            self.in_flight -= 1

    def answer(
        self, model: Model, request: Request, authorized: bool, integration_id: str | None
    ) -> Response:
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
        if not has_integration(integration_id):
            return self.error(
                404,
                "PLATFORM.INTEGRATION_NOT_FOUND",
                "The integration could not be found.",
                f"No integration with the ID {integration_id!r} exists in this environment.",
            )
        if model.path in MODELS_NOT_AVAILABLE.get(integration_id, frozenset()):
            tool = integration_id.split(":", 1)[0].capitalize()
            return self.error(
                403,
                "INTEGRATION.MODEL_NOT_AVAILABLE",
                "This data model isn't supported for the selected integration.",
                f'The "{model.path.rsplit("/", 1)[-1]}" model is not yet available for {tool}. '
                "Please reach out to Kombo if you need this functionality.",
            )
        try:
            query = parse_query(
                model, integration_id, request.query_params.multi_items(), self.cursors
            )
        except InputInvalid as exc:
            return self.error(400, "PLATFORM.INPUT_INVALID", "The input is invalid.", str(exc))

        entries = self.edits.entries(integration_id, model.name)
        unsupported = UNSUPPORTED_FILTERS.get(integration_id, frozenset())
        selected = select(model.name, entries, query, unsupported)
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
            fault = parse_fault(json.loads(await request.body()))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return JSONResponse({"error": f"invalid fault: {exc}"}, 400)
        self.faults.append(fault)
        return JSONResponse({"queued": sum(f.times for f in self.faults)}, 201)

    async def list_faults(self, request: Request) -> Response:
        return JSONResponse({"faults": [f.as_json() for f in self.faults]})

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(status_code=204)

    async def notify(self, integration_id: str, models: set[str]) -> dict[str, Any] | None:
        """Post the ``data-changed`` webhook for ``models`` of ``integration_id``, when the app
        has a target; how it went (``None``: no target)."""
        if self.webhooks is None:
            return None
        try:
            status = await send(self.webhooks, data_changed_body(integration_id, models))
        except Exception as exc:  # the target may be down; the edit stands
            outcome: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}"}
        else:
            outcome = {"status": status}
        if outcome.get("status") != 200 and not self._webhook_failed:
            log.warning("sandbox webhook to %s: %s", self.webhooks.url, outcome)
            self._webhook_failed = True  # once: the timer would repeat it every few seconds
        return outcome

    def note(self, edit: Edit) -> None:
        self.edits_made.append(edit.as_json())
        log.info("edit: %s %s %s (%s)", edit.what, edit.model, edit.id, edit.integration_id)

    async def change(self, request: Request) -> Response:
        try:
            asked = json.loads(await request.body())
            if not isinstance(asked, dict):
                raise ValueError("the body must be a JSON object")
            integration_id, model = asked.get("integration_id"), asked.get("model")
            record_id, delete = asked.get("id"), asked.get("delete", False)
            if not isinstance(integration_id, str) or not isinstance(model, str):
                raise ValueError('"integration_id" and "model" must be strings')
            if record_id is not None and not isinstance(record_id, str):
                raise ValueError('"id" must be a string')
            if not isinstance(delete, bool):
                raise ValueError('"delete" must be true or false')
            edit = self.edits.edit(integration_id, model, record_id, delete=delete)
        except ValueError as exc:  # EditRefused and json.JSONDecodeError are ValueErrors
            return JSONResponse({"error": f"invalid change: {exc}"}, 400)
        self.note(edit)
        webhook = await self.notify(integration_id, {model})
        return JSONResponse({**edit.as_json(), "webhook": webhook}, 201)

    async def list_changes(self, request: Request) -> Response:
        return JSONResponse({"changes": self.edits_made})

    async def change_every(self, seconds: float) -> None:
        """Edit a few records of the default integration every ``seconds``, with a webhook."""
        rng = random.Random()
        while True:
            await asyncio.sleep(seconds)
            changed: dict[str, set[str]] = defaultdict(set)
            for _ in range(rng.randint(1, 3)):
                model = rng.choice(_TIMER_MODELS)
                delete = model == "Interview" and rng.random() < _TIMER_DELETES
                try:
                    edit = self.edits.edit(INTEGRATIONS[0], model, delete=delete, rng=rng)
                except EditRefused as exc:  # e.g. every interview deleted after days of this
                    log.warning("sandbox: no edit: %s", exc)
                    continue
                self.note(edit)
                changed[edit.integration_id].add(edit.model)
            for integration_id, models in changed.items():
                await self.notify(integration_id, models)

    def lifespan(
        self, change_every: float | None
    ) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
        @contextlib.asynccontextmanager
        async def running(_app: Starlette) -> AsyncIterator[None]:
            if not change_every:
                yield
                return
            timer = asyncio.create_task(self.change_every(change_every))
            try:
                yield
            finally:
                timer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await timer

        return running


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_sandbox_app(
    api_key: str | None = None,
    latency: float = 0.0,
    max_in_flight: int | None = None,
    faults: Sequence[str] = (),
    webhooks: WebhookTarget | None = None,
    change_every: float | None = None,
) -> Starlette:
    """A Starlette app serving Kombo's ten ``GET /v1/ats/…`` endpoints from the sandbox data.

    ``api_key``: the only bearer key accepted (``None``: any non-empty one). ``latency``: seconds
    added to every endpoint's answer (for benchmarks). ``max_in_flight``: endpoint requests
    answered at once, beyond which 429 ``PLATFORM.CONCURRENCY_LIMIT_EXCEEDED`` (``None``: no
    limit). ``faults``: names of :data:`FAULT_SCENARIOS` to apply to every request. Each app has
    its own request log, fault queue and edited records. ``webhooks``: where each edit's
    ``data-changed`` webhook goes (``None``: nowhere). ``change_every``: seconds between the
    timer's edits, run by the app's lifespan (``None`` or 0: no timer).
    """
    unknown = [name for name in faults if name not in FAULT_SCENARIOS]
    if unknown:
        raise ValueError(
            f"unknown fault scenario(s) {', '.join(unknown)}; known: {', '.join(FAULT_SCENARIOS)}"
        )
    if max_in_flight is not None and max_in_flight < 1:
        raise ValueError("max_in_flight must be at least 1")
    if change_every is not None and change_every < 0:
        raise ValueError("change_every must be 0 (off) or more seconds")
    scenarios = [FAULT_SCENARIOS[n] for n in faults]
    sandbox = _Sandbox(api_key, latency, max_in_flight, scenarios, webhooks)
    routes = [
        Route("/healthz", _healthz, methods=["GET"]),
        *(Route(f"/v1{m.path}", sandbox.endpoint(m), methods=["GET"]) for m in CATALOG),
        Route("/v1/{path:path}", sandbox.unknown_route, methods=_ALL_METHODS),
        Route("/__sandbox/requests", sandbox.list_requests, methods=["GET"]),
        Route("/__sandbox/requests", sandbox.clear_requests, methods=["DELETE"]),
        Route("/__sandbox/faults", sandbox.add_fault, methods=["POST"]),
        Route("/__sandbox/faults", sandbox.list_faults, methods=["GET"]),
        Route("/__sandbox/faults", sandbox.clear_faults, methods=["DELETE"]),
        Route("/__sandbox/stats", sandbox.stats, methods=["GET"]),
        Route("/__sandbox/changes", sandbox.change, methods=["POST"]),
        Route("/__sandbox/changes", sandbox.list_changes, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=sandbox.lifespan(change_every))
