"""What the gateway tells its operators: log lines, metrics, spans, and the request id they share
(README "Operations", "Logs", "Tracing").

- :mod:`~gateway.observability.request_id`: the id of the request being served (``X-Request-Id``);
- :mod:`~gateway.observability.logs`: one log format for the process, and no secret in any line;
- :mod:`~gateway.observability.metrics`: Prometheus metrics and ``GET /metrics``;
- :mod:`~gateway.observability.tracing`: optional OpenTelemetry spans;
- :mod:`~gateway.observability.telemetry`: one GraphQL request observed (its metrics, its log
  line, its span), as the schema extension and the HTTP layer's hooks the app hands them.

Nothing is re-exported here: importing the request id must not load prometheus-client.
"""
