"""Fixtures for the observability tests: a gateway process of their own, logging JSON lines.

It reads the session's sandbox upstream with the test API key (as production reads Kombo), so
that every log line it writes is checked for the key after the suite (tests/conftest.py), and
retries fast so that a rate-limited call costs milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import API_KEY, serve_gateway
from tests.kombo_bodies import kombo_error_body
from tests.servers import Gateway

RATE_LIMITED = kombo_error_body(
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "Rate limit exceeded.",
    "You have exceeded the rate limit.",
    "https://app.kombo.dev/acme/logs?interactionId=429",
)
MODEL_NOT_AVAILABLE = kombo_error_body(
    "INTEGRATION.MODEL_NOT_AVAILABLE",
    "Model not available.",
    "This integration does not offer interviews.",
    "https://app.kombo.dev/acme/logs?interactionId=400",
)
# What the observability tests' gateways add to ``tests.conftest.gateway_env``: JSON logs, fast
# retries.
JSON_LOGS = {"LOG_FORMAT": "json", "LOG_LEVEL": "info", "GATEWAY_RETRY_BASE_DELAY": "0.01"}


@dataclass
class ObservedGateway:
    """A running gateway and the file its log lines go to."""

    client: Gateway
    log: Path

    @property
    def url(self) -> str:
        return self.client.url

    def lines(self) -> list[dict[str, Any]]:
        """Every log line so far, each parsed as the JSON object it must be."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def lines_of(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("request_id") == request_id]


@pytest.fixture(scope="module")
def observed(sandbox_url: str, server_logs: Path) -> Iterator[ObservedGateway]:
    log = server_logs / "gateway-observability.log"
    with serve_gateway(sandbox_url, log, **JSON_LOGS) as url:
        gateway = Gateway(url, secrets=(API_KEY,))
        yield ObservedGateway(gateway, log)
        gateway.http.close()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    """``GET /metrics``, parsed: sample name and sorted labels -> value."""
    response = httpx.get(url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)
