"""Tracing: the spans of a request and their links, W3C trace context both ways, and nothing at
all (not even an import) when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is unset.

The gateway runs in-process (httpx's ASGI transport) with an in-memory span exporter, in front
of the session's sandbox process, whose request log records each request's ``traceparent``; one
test runs it as its own process exporting over OTLP/HTTP to a collector on loopback.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from gateway.app import create_app, tracing_for
from gateway.config import Settings, SettingsError
from gateway.observability.tracing import NO_TRACING, Tracing
from tests.support.clients import Gateway, Sandbox
from tests.support.observability import RATE_LIMITED
from tests.support.otlp_collector import otlp_collector
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, ROOT, serve_gateway

pytestmark = pytest.mark.anyio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def client(
    sandbox_url: str, exporter: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings.from_env(
        {
            "KOMBO_API_KEY": API_KEY,
            "KOMBO_BASE_URL": sandbox_url + "/v1",
            "KOMBO_INTEGRATION_ID": DEFAULT_INTEGRATION,
            "GATEWAY_RETRY_BASE_DELAY": "0.01",
        }
    )
    app = create_app(settings, tracing=Tracing.to(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            yield http


async def post(client: httpx.AsyncClient, query: str, **headers: str) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200
    return dict(response.json())


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def traceparent_of(span: ReadableSpan) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


async def test_a_request_makes_the_described_spans_and_links(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter, sandbox: Sandbox
) -> None:
    body = await post(
        client,
        'query Traced { interviews(first: 2) { nodes { id } } one: interview(id: "x") { id } }',
        traceparent=TRACEPARENT,
    )
    assert "errors" not in body
    spans = exporter.get_finished_spans()

    [operation] = named(spans, "query Traced")
    assert operation.kind is SpanKind.SERVER
    context = operation.get_span_context()
    assert f"{context.trace_id:032x}" == TRACE_ID, "the caller's trace continues"
    assert parent_of(operation) == int(CALLER_SPAN, 16)
    attributes = dict(operation.attributes or {})
    assert attributes["graphql.operation.name"] == "Traced"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["http.response.status_code"] == 200
    assert attributes["gateway.upstream_calls"] == 2
    assert all(span.get_span_context().trace_id == context.trace_id for span in spans)

    [page] = named(spans, "interviews page")
    [batch] = named(spans, "interviews by id")
    assert parent_of(page) == parent_of(batch) == context.span_id
    assert dict(batch.attributes or {})["gateway.batch_size"] == 1

    calls = named(spans, "kombo /ats/interviews")
    assert sorted(parent_of(call) or 0 for call in calls) == sorted(
        [page.get_span_context().span_id, batch.get_span_context().span_id]
    )
    requests = named(spans, "GET /ats/interviews")
    assert {parent_of(r) for r in requests} == {c.get_span_context().span_id for c in calls}
    for request in requests:
        assert request.kind is SpanKind.CLIENT
        assert dict(request.attributes or {})["http.response.status_code"] == 200

    # Each upstream request carried its own span as the W3C parent.
    sent = sorted(r["traceparent"] for r in sandbox.requests())
    assert sent == sorted(traceparent_of(r) for r in requests)


async def test_only_trace_context_reaches_kombo_never_the_callers_baggage(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    body = await post(
        client,
        "{ interviews(first: 1) { nodes { id } } }",
        traceparent=TRACEPARENT,
        baggage="tenant=someone-else,role=admin",
    )
    assert "errors" not in body
    [request] = sandbox.requests()
    assert request["traceparent"].split("-")[1] == TRACE_ID
    assert "baggage" not in request, "client-chosen baggage must not travel upstream"


async def test_retries_are_child_spans_with_an_event_on_the_call(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"ratelimit-reset": "0.01"})
    await post(client, "query Retried { interviews(first: 1) { nodes { id } } }")
    spans = exporter.get_finished_spans()
    [call] = named(spans, "kombo /ats/interviews")
    first, second = sorted(named(spans, "GET /ats/interviews"), key=lambda s: s.start_time or 0)
    assert parent_of(first) == parent_of(second) == call.get_span_context().span_id
    assert dict(first.attributes or {})["http.response.status_code"] == 429
    assert first.status.status_code is StatusCode.ERROR
    assert dict(second.attributes or {})["http.request.resend_count"] == 1
    [retry] = [event for event in call.events if event.name == "retry"]
    assert dict(retry.attributes or {})["attempt"] == 1
    assert [r["traceparent"] for r in sandbox.requests()] == [
        traceparent_of(first),
        traceparent_of(second),
    ]
    [operation] = named(spans, "query Retried")
    assert operation.parent is None, "no traceparent sent: a new trace"


async def test_an_upstream_failure_marks_the_spans(
    client: httpx.AsyncClient, exporter: InMemorySpanExporter, sandbox: Sandbox
) -> None:
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"Retry-After": "60"})  # over the cap
    body = await post(client, "query Failing { interviews(first: 1) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    spans = exporter.get_finished_spans()
    [operation] = named(spans, "query Failing")
    assert operation.status.status_code is StatusCode.ERROR
    assert dict(operation.attributes or {})["gateway.error_codes"] == ("UPSTREAM_UNAVAILABLE",)
    [call] = named(spans, "kombo /ats/interviews")
    assert call.status.status_code is StatusCode.ERROR


def test_without_an_endpoint_tracing_is_off_and_opentelemetry_never_loads() -> None:
    assert Settings.from_env({}).tracing is None
    assert tracing_for(Settings()) is NO_TRACING
    probe = (
        "import sys, asyncio, httpx\n"
        "from gateway.app import create_app\n"
        "from gateway.config import Settings\n"
        "app = create_app(Settings.from_env({}))\n"
        "async def main():\n"
        "    async with app.router.lifespan_context(app):\n"
        "        t = httpx.ASGITransport(app=app)\n"
        "        async with httpx.AsyncClient(transport=t, base_url='http://g') as c:\n"
        "            r = await c.post('/graphql', json={'query': '{ interviews(first: 1)"
        " { nodes { id } } }'})\n"
        "            assert r.status_code == 200, r.text\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_an_endpoint_turns_tracing_on() -> None:
    settings = Settings.from_env(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_SERVICE_NAME": "gateway-eu",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=collector-s3cret",
        }
    )
    assert settings.tracing is not None
    assert settings.tracing.service_name == "gateway-eu"
    assert "collector-s3cret" in settings.secrets(), "its headers' values are redacted from logs"
    tracing = tracing_for(settings)
    try:
        assert tracing.enabled
    finally:
        tracing.shutdown()
    assert (
        Settings.from_env(
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4318", "OTEL_SDK_DISABLED": "true"}
        ).tracing
        is None
    )


def test_a_gateway_process_exports_its_spans_over_otlp(sandbox_url: str, server_logs: Path) -> None:
    with (
        otlp_collector() as (collector_url, collector),
        serve_gateway(
            sandbox_url,
            server_logs / "gateway-otlp.log",
            OTEL_EXPORTER_OTLP_ENDPOINT=collector_url,
            OTEL_BSP_SCHEDULE_DELAY="100",  # milliseconds (the default is 5 s)
        ) as url,
    ):
        gateway = Gateway(url, secrets=(API_KEY,))
        gateway.query("query Exported { interviews(first: 1) { nodes { id } } }")
        gateway.http.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            spans = collector.spans()
            if {"query Exported", "GET /ats/interviews"} <= {span.name for _, span in spans}:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"no OTLP export of the request's spans within 10 s: {collector.paths}")
    assert set(collector.paths) == {"/v1/traces"}
    [(service, operation)] = [(s, span) for s, span in spans if span.name == "query Exported"]
    assert service == "kombo-gateway"
    [(_, request)] = [(s, span) for s, span in spans if span.name == "GET /ats/interviews"]
    assert request.trace_id == operation.trace_id, "the upstream request is in the query's trace"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "http"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
            "http/protobuf",
        ),
    ],
)
def test_a_wrong_tracing_setting_stops_the_start(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


async def test_a_browsers_traceparent_continues_its_trace_through_cors(
    exporter: InMemorySpanExporter,
) -> None:
    """What OpenTelemetry's browser fetch instrumentation sends from an allowed origin: the
    preflight accepts `traceparent`, and the request's server span continues the browser's trace
    under the browser's span."""
    origin = "https://app.example.com"
    settings = Settings.from_env({"GATEWAY_CORS_ORIGINS": origin})  # the embedded sandbox
    app = create_app(settings, tracing=Tracing.to(exporter))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            preflight = await http.options(
                "/graphql",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type,traceparent,tracestate",
                },
            )
            assert preflight.status_code == 200, preflight.text
            response = await http.post(
                "/graphql",
                json={"query": "query FromTheBrowser { interviews(first: 1) { nodes { id } } }"},
                headers={"Origin": origin, "traceparent": TRACEPARENT, "tracestate": "vendor=1"},
            )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == origin
    [operation] = named(exporter.get_finished_spans(), "query FromTheBrowser")
    assert operation.kind is SpanKind.SERVER
    context = operation.get_span_context()
    assert context is not None
    assert f"{context.trace_id:032x}" == TRACE_ID
    assert parent_of(operation) == int(CALLER_SPAN, 16)
