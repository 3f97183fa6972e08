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

BASE_URL = "http://gateway.test"


@contextmanager
def in_process_gateway(env: dict[str, str]) -> Iterator[Gateway]:
    """A :class:`Gateway` over ``create_app(Settings.from_env(env))``, its lifespan open while
    the block runs."""
    app = create_app(Settings.from_env(env))
    with TestClient(app, base_url=BASE_URL) as http:
        yield Gateway(BASE_URL, http=http)
