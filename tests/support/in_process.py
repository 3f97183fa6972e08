"""The gateway in-process: ``create_app(settings)`` with its lifespan run, behind an httpx client
(Starlette's ``TestClient``, an ``httpx.Client``, so the suite's secret scanning reads its
responses as it reads a real server's). Without ``KOMBO_API_KEY`` the app serves the embedded
sandbox in-process, as ``serve`` does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from tests.support.clients import Gateway
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION

BASE_URL = "http://gateway.test"


@contextmanager
def in_process_gateway(env: dict[str, str], secrets: tuple[str, ...] = ()) -> Iterator[Gateway]:
    """A :class:`Gateway` over ``create_app(Settings.from_env(env))``, its lifespan open while
    the block runs; ``secrets`` are what none of its responses may carry."""
    app = create_app(Settings.from_env(env))
    with TestClient(app, base_url=BASE_URL) as http:
        yield Gateway(BASE_URL, secrets=secrets, http=http)


def upstream_env(sandbox_url: str, **extra: str) -> dict[str, str]:
    """A gateway's environment reading the sandbox process at ``sandbox_url`` with the test API
    key (as production reads Kombo) for ``DEFAULT_INTEGRATION``; ``extra`` adds variables or
    overrides these. What ``serve_gateway`` gives a process, without its address."""
    return {
        "KOMBO_API_KEY": API_KEY,
        "KOMBO_BASE_URL": sandbox_url + "/v1",
        "KOMBO_INTEGRATION_ID": DEFAULT_INTEGRATION,
        **extra,
    }
