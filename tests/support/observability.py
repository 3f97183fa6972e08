"""What the observability tests share: Kombo error bodies they script, a gateway process logging
JSON lines, and ``/metrics`` scraped into samples (the README's "Observability")."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.clients import Gateway
from tests.support.kombo_bodies import kombo_error_body

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
# What the observability tests' gateways add to ``tests.support.servers.gateway_env``: JSON
# logs, fast retries.
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
