"""``GET /metrics`` after a known workload shows exactly that workload (README "Operations").

A gateway process of its own (``observed``) serves N connection queries, one request with M id
lookups, a request refused as bad input, one rate-limited then retried call and one final Kombo
error; the scrape before and after differ by exactly those counts. ``serve --workers 2`` sums
the counts of both workers in every scrape, whichever worker answers it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx

from gateway.observability.metrics import BoundedLabel, operation_label, outcome
from tests.support.clients import Gateway, Sandbox
from tests.support.observability import (
    JSON_LOGS,
    MODEL_NOT_AVAILABLE,
    RATE_LIMITED,
    ObservedGateway,
    delta,
    scrape,
    value,
)
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, serve_gateway

N = 3  # connection queries
M = 4  # id lookups in one request
CONNECTION = "query Listing { interviews(first: 3) { nodes { id } } }"
LOOKUPS = (
    "query Lookups { "
    + " ".join(f'i{i}: interview(id: "id-{i}") {{ id }}' for i in range(M))
    + " }"
)
ENDPOINT = "/ats/interviews"


def test_a_scrape_after_a_known_workload_shows_its_counts(
    observed: ObservedGateway, sandbox: Sandbox
) -> None:
    before = scrape(observed.url)
    gateway = observed.client

    for _ in range(N):
        gateway.query(CONNECTION)
    gateway.query(LOOKUPS)
    bad = gateway.errors("query Refused { interviews(first: 0) { nodes { id } } }")
    assert bad[0]["extensions"]["code"] == "BAD_USER_INPUT"
    sandbox.fault(status=429, body=RATE_LIMITED, headers={"ratelimit-reset": "0.05"})
    gateway.query("query Retried { interviews(first: 2) { nodes { id } } }")
    sandbox.fault(status=400, body=MODEL_NOT_AVAILABLE)
    failed = gateway.errors("query Failing { interviews(first: 2) { nodes { id } } }")
    assert failed[0]["extensions"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
    assert len(sandbox.requests()) == N + 1 + 2 + 1

    after = scrape(observed.url)

    def requests(operation: str, result: str) -> float:
        return delta(
            before,
            after,
            "kombo_gateway_graphql_requests_total",
            operation=operation,
            outcome=result,
        )

    assert requests("Listing", "ok") == N
    assert requests("Lookups", "ok") == 1
    assert requests("Refused", "bad_request") == 1
    assert requests("Retried", "ok") == 1
    assert requests("Failing", "upstream_error") == 1
    duration = "kombo_gateway_graphql_request_duration_seconds_count"
    assert delta(before, after, duration, operation="Listing") == N
    assert delta(before, after, duration, operation="Lookups") == 1

    errors = "kombo_gateway_graphql_errors_total"
    assert delta(before, after, errors, code="BAD_USER_INPUT") == 1
    assert delta(before, after, errors, code="INTEGRATION.MODEL_NOT_AVAILABLE") == 1

    upstream = "kombo_gateway_upstream_requests_total"
    assert delta(before, after, upstream, endpoint=ENDPOINT, status="200") == N + 1 + 1
    assert delta(before, after, upstream, endpoint=ENDPOINT, status="429") == 1
    assert delta(before, after, upstream, endpoint=ENDPOINT, status="400") == 1
    latency = "kombo_gateway_upstream_request_duration_seconds_count"
    assert delta(before, after, latency, endpoint=ENDPOINT) == N + 1 + 2 + 1
    retries = "kombo_gateway_upstream_retries_total"
    assert delta(before, after, retries, endpoint=ENDPOINT, reason="rate_limit") == 1
    waits = "kombo_gateway_upstream_rate_limit_waits_total"
    assert delta(before, after, waits, endpoint=ENDPOINT) == 1
    waited = "kombo_gateway_upstream_rate_limit_wait_seconds_total"
    assert 0.05 <= delta(before, after, waited, endpoint=ENDPOINT) < 1

    # One batch of M keys; the histogram's buckets place it.
    batches = "kombo_gateway_dataloader_batch_size"
    assert delta(before, after, batches + "_count", loader="interviews") == 1
    assert delta(before, after, batches + "_sum", loader="interviews") == M
    assert delta(before, after, batches + "_bucket", loader="interviews", le="2.0") == 0
    assert delta(before, after, batches + "_bucket", loader="interviews", le="5.0") == 1


def test_no_label_carries_a_secret_an_integration_or_raw_input(
    observed: ObservedGateway,
) -> None:
    gateway = observed.client
    hostile = "query " + "A" * 80 + " { __typename }"  # a valid document, too long a name
    gateway.query(hostile)
    gateway.post("{ nope", headers={"X-Integration-Id": DEFAULT_INTEGRATION})  # never validates
    gateway.post(
        "query Sneaky { __typename }",
        headers={"Authorization": "Bearer some.bearer.token"},
    )
    text = httpx.get(observed.url + "/metrics").text
    assert API_KEY not in text
    assert DEFAULT_INTEGRATION not in text
    assert "some.bearer.token" not in text
    assert "A" * 65 not in text
    samples = scrape(observed.url)
    operations = {
        dict(labels)["operation"]
        for (name, labels) in samples
        if name == "kombo_gateway_graphql_requests_total"
    }
    assert {"other", "Sneaky"} <= operations


def test_operation_labels_are_bounded() -> None:
    assert operation_label("Listing", validated=True) == "Listing"
    assert operation_label(None, validated=True) == "anonymous"
    assert operation_label("Listing", validated=False) == "other"
    assert operation_label("x" * 65, validated=True) == "other"
    label = BoundedLabel(r"[a-z]+", limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", "B")] == ["a", "b", "other", "a", "other"]


def test_outcomes_are_the_gravest_error_class() -> None:
    assert outcome([], 200) == "ok"
    assert outcome(["BAD_USER_INPUT", "QUERY_TOO_COMPLEX"], 200) == "bad_request"
    assert outcome(["UNAUTHENTICATED"], 401) == "unauthorized"
    assert outcome(["BAD_USER_INPUT", "PLATFORM.RATE_LIMIT_EXCEEDED"], 200) == "upstream_error"
    assert outcome(["UPSTREAM_UNAVAILABLE"], 200) == "upstream_error"
    assert outcome(["UPSTREAM_ERROR", "INTERNAL_SERVER_ERROR"], 200) == "internal_error"
    assert outcome([], 500) == "internal_error"
    assert outcome([], 406) == "bad_request"


def test_serve_with_two_workers_sums_both_in_every_scrape(
    sandbox_url: str, server_logs: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_1.db").write_bytes(b"stale, from an earlier run")
    log = server_logs / "gateway-metrics-workers.log"
    with serve_gateway(
        sandbox_url, log, "--workers", "2", **JSON_LOGS, PROMETHEUS_MULTIPROC_DIR=str(directory)
    ) as url:
        assert not (directory / "counter_1.db").exists(), "serve cleans the directory first"
        sent = 0
        deadline = time.monotonic() + 60
        # New connections until both workers have answered some (the kernel spreads them).
        while len(_writers(directory)) < 2 or sent < 10:
            assert time.monotonic() < deadline, "one worker answered everything"
            gateway = Gateway(url, secrets=(API_KEY,))
            gateway.query("query Spread { __typename }")
            gateway.http.close()
            sent += 1
        for _ in range(4):  # any worker answers a scrape, and every answer is the whole sum
            samples = scrape(url)
            total = value(
                samples,
                "kombo_gateway_graphql_requests_total",
                operation="Spread",
                outcome="ok",
            )
            assert total == sent
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # every one is JSON
    assert sum("Started server process" in line["message"] for line in lines) >= 2


def _writers(directory: Path) -> set[str]:
    """The pids of the processes that have written counters."""
    return {
        name.removeprefix("counter_").removesuffix(".db")
        for name in os.listdir(directory)
        if name.startswith("counter_")
    }
