"""One GraphQL request, observed: what it did, then its metrics, its log line and its span.

:class:`RequestTelemetry` starts a :class:`RequestRecord` when the endpoint receives a request
(and, with tracing, its span), and finishes it once the response is sent: one
``graphql request`` log line, the request's metrics, the span's name and attributes. While the
request runs, the record is the current one (a context variable, like the request id), and its
parts fill it in where they learn something:

- :class:`OperationRecorder` (a schema extension) the operation's name and type, once the
  document validated;
- :func:`note_errors` (the endpoint, for every JSON answer) the error codes;
- :func:`note_integration` (the context getter) the integration read;
- :class:`UpstreamCallCounter` (a Kombo observer) each HTTP request made to Kombo for it.

Nothing here runs per field: a request costs a few dictionary updates and one log call.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from strawberry.extensions import SchemaExtension

from gateway.errors import CLIENT_DISCONNECTED, INTERNAL_ERROR, UPSTREAM_FAILURE
from gateway.kombo.observer import Attempt, KomboObserver
from gateway.observability import metrics
from gateway.observability.logs import FIELDS
from gateway.observability.request_id import current_request_id
from gateway.observability.tracing import NO_TRACING, RequestSpan, Tracing

log = logging.getLogger("gateway.request")

# What a log line may show of a client-chosen operation name (metrics are stricter).
_LOGGABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


@dataclass(slots=True)
class RequestRecord:
    """What one GraphQL request did, gathered while it runs."""

    method: str
    started: float = field(default_factory=time.perf_counter)
    operation_name: str | None = None
    operation_type: str | None = None
    validated: bool = False
    """True once the document parsed and validated (its operation is then named above)."""
    integration: str | None = None
    upstream_calls: int = 0
    error_codes: list[str] = field(default_factory=list)
    span: RequestSpan | None = None
    token: Token[RequestRecord | None] | None = None
    observed: bool = True
    """False for answers that are not GraphQL requests (the GraphiQL page)."""
    disconnected: bool = False
    """True when the client went away before its request was read (nothing was answered)."""


_current: ContextVar[RequestRecord | None] = ContextVar("graphql_request", default=None)


def current_record() -> RequestRecord | None:
    """The record of the GraphQL request being served, or ``None`` outside one."""
    return _current.get()


def note_errors(errors: Iterable[Mapping[str, Any]]) -> None:
    """Record the ``extensions.code`` of each error of the answer."""
    record = _current.get()
    if record is None:
        return
    for error in errors:
        extensions = error.get("extensions")
        code = extensions.get("code") if isinstance(extensions, Mapping) else None
        record.error_codes.append(code if isinstance(code, str) and code else "UNKNOWN")


def note_integration(integration_id: str | None) -> None:
    """Record the integration the request reads."""
    record = _current.get()
    if record is not None:
        record.integration = integration_id


def not_a_graphql_request() -> None:
    """This answer is not a GraphQL request (the GraphiQL page): neither counted nor logged."""
    record = _current.get()
    if record is not None:
        record.observed = False


class OperationRecorder(SchemaExtension):
    """Records the operation's name and type once its document has validated (``on_execute``
    runs only then), so that metrics label only names of documents that exist."""

    def on_execute(self) -> Iterator[None]:
        record = _current.get()
        if record is not None:
            context = self.execution_context
            record.validated = True
            record.operation_name = context.operation_name
            try:
                record.operation_type = context.operation_type.value
            except RuntimeError:
                record.operation_type = None
        yield


class UpstreamCallCounter(KomboObserver):
    """Counts, in the current request's record, each HTTP request made to Kombo for it."""

    def attempt(self, attempt: Attempt) -> Any:
        record = _current.get()
        if record is not None:
            record.upstream_calls += 1
        return super().attempt(attempt)


class RequestTelemetry:
    """Starts and finishes the observation of GraphQL requests (see the module docstring)."""

    def __init__(self, tracing: Tracing = NO_TRACING) -> None:
        self.tracing = tracing

    def start(self, method: str, path: str, headers: Mapping[str, str]) -> RequestRecord:
        """Begin observing a request; its record becomes the current one."""
        record = RequestRecord(method)
        if self.tracing.enabled:
            record.span = self.tracing.start_request(headers, method, path)
        record.token = _current.set(record)
        return record

    def finish(self, record: RequestRecord, status: int | None) -> None:
        """The request's metrics, log line and span, once its answer (``status``) is sent;
        ``status`` is None when none was (the client disconnected)."""
        seconds = time.perf_counter() - record.started
        if record.token is not None:
            _current.reset(record.token)
            record.token = None
        codes = record.error_codes
        if record.disconnected or status is None:
            outcome = CLIENT_DISCONNECTED
        else:
            outcome = metrics.outcome(codes, status)
        if record.observed:
            metrics.observe_graphql_request(
                record.operation_name, record.validated, codes, outcome, seconds
            )
        name = _loggable(record.operation_name)
        if record.span is not None:
            record.span.end(
                name=f"{record.operation_type} {name or ''}".strip()
                if record.operation_type
                else None,
                attributes={
                    "http.response.status_code": status,
                    "graphql.operation.name": name,
                    "graphql.operation.type": record.operation_type,
                    "kombo.integration_id": record.integration,
                    "gateway.request_id": current_request_id(),
                    "gateway.upstream_calls": record.upstream_calls,
                    "gateway.error_codes": codes or None,
                },
                failed=outcome in (UPSTREAM_FAILURE, INTERNAL_ERROR),
            )
        if not record.observed or not log.isEnabledFor(logging.INFO):
            return
        fields: dict[str, Any] = {
            "event": "graphql_request",
            "request_id": current_request_id(),
            "method": record.method,
            "operation": name,
            "operation_type": record.operation_type,
            "integration": record.integration,
            "status": status,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 1),
            "upstream_calls": record.upstream_calls,
            "error_codes": codes,
        }
        if record.span is not None:
            fields["trace_id"] = record.span.trace_id
        log.info("graphql request", extra={FIELDS: fields})


def _loggable(name: str | None) -> str | None:
    """The operation name as a log line may show it: a GraphQL name (the only kind a validated
    document has), cut at 100 characters."""
    if name is None:
        return None
    return name[:100] if _LOGGABLE_NAME.match(name) else None
