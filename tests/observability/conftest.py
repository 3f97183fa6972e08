"""Fixtures for the observability tests: a gateway process of their own, logging JSON lines.

It reads the session's sandbox upstream with the test API key (as production reads Kombo), so
that every log line it writes is checked for the key after the suite (tests/conftest.py), and
retries fast so that a rate-limited call costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import Gateway
from tests.support.observability import JSON_LOGS, ObservedGateway
from tests.support.secret_scanning import API_KEY
from tests.support.servers import serve_gateway


@pytest.fixture(scope="module")
def observed(sandbox_url: str, server_logs: Path) -> Iterator[ObservedGateway]:
    log = server_logs / "gateway-observability.log"
    with serve_gateway(sandbox_url, log, **JSON_LOGS) as url:
        gateway = Gateway(url, secrets=(API_KEY,))
        yield ObservedGateway(gateway, log)
        gateway.http.close()
