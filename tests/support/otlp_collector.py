"""An OTLP/HTTP trace collector on loopback, for tests that run the gateway as a process with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at it."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


class Collector:
    """An OTLP/HTTP collector on loopback: every ``POST /v1/traces`` body, decoded."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []
        self.paths: list[str] = []
        self._lock = threading.Lock()

    def record(self, path: str, body: bytes) -> None:
        with self._lock:
            self.paths.append(path)
            if path == "/v1/traces":
                self.exports.append(ExportTraceServiceRequest.FromString(body))

    def spans(self) -> list[tuple[str, Any]]:
        """Every span received so far, with the ``service.name`` of its resource."""
        with self._lock:
            exports = list(self.exports)
        found = []
        for export in exports:
            for resource_spans in export.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    found += [(attributes.get("service.name"), s) for s in scope_spans.spans]
        return found


@contextmanager
def otlp_collector() -> Iterator[tuple[str, Collector]]:
    """A collector listening on a free loopback port, in a thread: its base URL and records."""
    collector = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            collector.record(self.path, body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="otlp-collector", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", collector
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
