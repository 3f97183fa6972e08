"""Session fixtures: the sandbox upstream, the gateway and Redis as real processes on loopback; and
the Hypothesis profile of the run.

``gateway_url`` is a gateway with an API key, pointed at a sandbox server that requires that key
(as production points at Kombo). ``sandbox_mode_gateway_url`` is ``make run``'s gateway: no key,
the sandbox in-process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.clients import Gateway, Sandbox
from tests.support.redis_server import RedisServer, run_redis
from tests.support.secret_scanning import API_KEY, every_response_checked, leaks_in_logs
from tests.support.servers import free_port, run_server, serve_gateway

# Hypothesis: "ci" runs every property test with the example count written on it (100 where none
# is); "dev", for local runs, a fifth of it (20 where none is). HYPOTHESIS_PROFILE chooses; without
# it, CI=true (set by the CI runner) means "ci" and anything else "dev".
CI_EXAMPLES = 100
DEV_EXAMPLES = 20
# No per-example deadline: Hypothesis' 200 ms is a timing assertion, and on a loaded 2-core CI
# machine a trivial example (two digests) once took longer; speed is measured in bench/ instead.
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=None)
settings.register_profile("dev", max_examples=DEV_EXAMPLES, deadline=None)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
)
settings.load_profile(PROFILE)


def pytest_report_header() -> str:
    return f"hypothesis profile: {PROFILE}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under "dev", scale the counts written on the tests (``@settings(max_examples=300)``),
    which a profile alone cannot lower since a test's own settings win over the profile's."""
    if settings.get_current_profile_name() != "dev":
        return
    scaled: set[int] = set()
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)
        # A count at or below the profile's is the profile's own (or already small): left as is.
        if own is None or own.max_examples <= DEV_EXAMPLES or id(test) in scaled:
            continue
        scaled.add(id(test))
        examples = own.max_examples * DEV_EXAMPLES // CI_EXAMPLES
        test._hypothesis_internal_use_settings = settings(own, max_examples=examples)


@pytest.fixture(scope="session")
def server_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_response() -> Iterator[None]:
    """Every HTTP response any test reads from a server of ours is free of the API key.

    Wraps httpx's clients, sync and async, which every end-to-end test uses; the sandbox's own
    test controls (``/__sandbox/...``) are not the gateway's answers and are left out. Streamed
    responses are not read here.
    """
    with every_response_checked():
        yield


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_any_server_log(server_logs: Path) -> Iterator[None]:
    """After the whole suite: every log line of every server it started is free of the key."""
    yield
    leaks = leaks_in_logs(server_logs)
    assert not leaks, f"the API key appears in server logs at {leaks}"


@pytest.fixture(scope="session")
def sandbox_url(server_logs: Path) -> Iterator[str]:
    port = free_port()
    with run_server(
        ["sandbox", "--port", str(port), "--api-key", API_KEY],
        {},
        "/healthz",
        port,
        server_logs / "sandbox.log",
    ) as url:
        yield url


@pytest.fixture(scope="session")
def gateway_url(sandbox_url: str, server_logs: Path) -> Iterator[str]:
    with serve_gateway(sandbox_url, server_logs / "gateway.log") as url:
        yield url


@pytest.fixture(scope="session")
def sandbox_mode_gateway_url(server_logs: Path) -> Iterator[str]:
    port = free_port()
    env = {"KOMBO_API_KEY": "", "PORT": str(port), "HOST": "127.0.0.1"}
    with run_server(
        ["serve"], env, "/readyz", port, server_logs / "gateway-sandbox-mode.log"
    ) as url:
        yield url


@pytest.fixture(scope="session")
def gateway(gateway_url: str) -> Gateway:
    return Gateway(gateway_url, secrets=(API_KEY,))


@pytest.fixture
def sandbox(sandbox_url: str) -> Sandbox:
    """The sandbox's controls, with its request log and fault queue cleared for this test."""
    controls = Sandbox(sandbox_url)
    controls.clear()
    return controls


@pytest.fixture(scope="session")
def redis_server(
    tmp_path_factory: pytest.TempPathFactory, server_logs: Path
) -> Iterator[RedisServer]:
    """The Redis the cache tests share (each test that needs it empty flushes it)."""
    with run_redis(tmp_path_factory.mktemp("redis"), server_logs / "redis.log") as server:
        yield server


@pytest.fixture
def empty_redis(redis_server: RedisServer) -> RedisServer:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushdb()
    return redis_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
