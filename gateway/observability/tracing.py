"""Optional OpenTelemetry tracing: off and free unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

:data:`NO_TRACING` (the default) does nothing, and OpenTelemetry is not even imported. An
enabled :class:`Tracing` (:meth:`Tracing.otlp` for production, :meth:`Tracing.to` for tests)
makes, per GraphQL request, these spans (README "Operations"):

- ``POST /graphql`` (server), renamed to the operation (``query Interviews``) once its
  document validated; its parent is the caller's W3C ``traceparent``, when it sent one;
- ``interviews page`` and ``interviews by id`` (internal): the resolvers' upstream work, one
  connection page and one id-lookup batch (:mod:`gateway.upstream.access`);
- ``kombo /ats/interviews`` (internal): one upstream call, retries included; each wait before
  a retry is a ``retry`` event on it;
- ``GET /ats/interviews`` (client): one HTTP request to Kombo, which carries this span's
  ``traceparent`` header.

Spans are exported over OTLP/HTTP (protobuf) in batches; the exporter reads the standard
``OTEL_EXPORTER_OTLP_*`` variables itself (endpoint, headers, timeout, compression). The tracer
provider is the gateway's own, not OpenTelemetry's global one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from gateway.kombo.observer import Attempt, KomboObserver

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span

DEFAULT_SERVICE_NAME = "kombo-gateway"
INSTRUMENTATION_NAME = "kombo-gateway"

_NULL: AbstractContextManager[None] = nullcontext()


class RequestSpan:
    """The span of one GraphQL request, current from :meth:`Tracing.start_request` until
    :meth:`end`."""

    def __init__(self, span: Span, token: object) -> None:
        self.span = span
        self._token = token

    @property
    def trace_id(self) -> str:
        """The W3C trace id (32 hex digits), for log lines."""
        return f"{self.span.get_span_context().trace_id:032x}"

    def end(
        self,
        *,
        name: str | None,
        attributes: Mapping[str, Any],
        failed: bool,
    ) -> None:
        """Name it after the operation (when known), add ``attributes``, mark it failed, end it
        and make its parent current again."""
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        span = self.span
        if name:
            span.update_name(name)
        span.set_attributes({k: v for k, v in attributes.items() if v is not None})
        if failed:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        context.detach(self._token)  # type: ignore[arg-type]


class Tracing:
    """Tracing switched off: every hook returns at once, and nothing of OpenTelemetry loads."""

    enabled = False

    def start_request(
        self, headers: Mapping[str, str], method: str, path: str
    ) -> RequestSpan | None:
        """Start (and make current) the span of a request; ``None`` when off."""
        return None

    def span(
        self, name: str, attributes: Mapping[str, Any] | None = None
    ) -> AbstractContextManager[object]:
        """A context manager around one internal span (a resolver's upstream work)."""
        return _NULL

    def observer(self) -> KomboObserver | None:
        """The Kombo client's observer making the upstream spans; ``None`` when off."""
        return None

    def shutdown(self) -> None:
        """Export what is pending and stop (the app's lifespan calls it)."""

    @classmethod
    def otlp(cls, service_name: str = DEFAULT_SERVICE_NAME) -> Tracing:
        """Tracing exported over OTLP/HTTP, configured by the ``OTEL_EXPORTER_OTLP_*``
        variables; raises ``ImportError`` when the ``[otel]`` extra is not installed."""
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        return _OpenTelemetryTracing([BatchSpanProcessor(OTLPSpanExporter())], service_name)

    @classmethod
    def to(cls, exporter: SpanExporter, service_name: str = DEFAULT_SERVICE_NAME) -> Tracing:
        """Tracing that hands every span to ``exporter`` as it ends (tests: an
        ``InMemorySpanExporter``)."""
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        return _OpenTelemetryTracing([SimpleSpanProcessor(exporter)], service_name)


NO_TRACING = Tracing()


class _OpenTelemetryTracing(Tracing):
    enabled = True

    def __init__(self, processors: Sequence[SpanProcessor], service_name: str) -> None:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider

        self.provider: TracerProvider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: service_name})
        )
        for processor in processors:
            self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer(INSTRUMENTATION_NAME)
        self._observer = _TracingObserver(self)

    def start_request(self, headers: Mapping[str, str], method: str, path: str) -> RequestSpan:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind

        parent = _trace_context().extract(headers)
        span = self.tracer.start_span(
            f"{method} {path}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        )
        token = context.attach(trace.set_span_in_context(span, parent))
        return RequestSpan(span, token)

    def span(
        self, name: str, attributes: Mapping[str, Any] | None = None
    ) -> AbstractContextManager[object]:
        return self.tracer.start_as_current_span(name, attributes=dict(attributes or {}))

    def observer(self) -> KomboObserver:
        return self._observer

    def shutdown(self) -> None:
        self.provider.shutdown()


def _trace_context() -> Any:
    """W3C trace context only: the global propagator also carries ``baggage``, which would
    forward client-chosen headers to Kombo."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator()


class _TracingObserver(KomboObserver):
    """Upstream calls and their HTTP requests as spans; the trace context goes with each
    request."""

    def __init__(self, tracing: _OpenTelemetryTracing) -> None:
        self._tracer = tracing.tracer

    def call(self, endpoint: str, integration_id: str) -> AbstractContextManager[object]:
        return self._tracer.start_as_current_span(
            f"kombo {endpoint}", attributes={"kombo.endpoint": endpoint}
        )

    @contextlib.contextmanager
    def attempt(self, attempt: Attempt) -> Iterator[object]:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        attributes: dict[str, Any] = {
            "http.request.method": "GET",
            "url.template": attempt.endpoint,
        }
        if attempt.number > 1:
            attributes["http.request.resend_count"] = attempt.number - 1
        with self._tracer.start_as_current_span(
            f"GET {attempt.endpoint}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            _trace_context().inject(attempt.headers)
            try:
                yield span
            finally:
                if attempt.status is not None:
                    span.set_attribute("http.response.status_code", attempt.status)
                if attempt.status is None or attempt.status >= 400 or attempt.error is not None:
                    span.set_attribute("error.type", attempt.outcome)
                    span.set_status(Status(StatusCode.ERROR))

    def retrying(self, attempt: Attempt, delay: float, reason: str) -> None:
        from opentelemetry import trace

        trace.get_current_span().add_event(
            "retry",
            {
                "attempt": attempt.number,
                "delay_s": round(delay, 3),
                "reason": reason,
                "error.type": attempt.outcome,
            },
        )
