"""The command line: clear configuration errors, the SDL on stdout, several workers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.clients import Gateway
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, ROOT, serve_gateway
from tests.support.truth import gids, visible


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"PORT": "eighty"}, "PORT must be a whole number"),
        ({"PORT": "70000"}, "PORT must be between"),
        ({"HOST": "not a host"}, "HOST must be"),
        ({"KOMBO_BASE_URL": "ftp://x"}, "KOMBO_BASE_URL must be an http(s) URL"),
        ({"GATEWAY_AUTH": "maybe"}, "GATEWAY_AUTH must be"),
        ({"GATEWAY_WORKERS": "0"}, "GATEWAY_WORKERS must be"),
        ({"GATEWAY_WORKERS": "many"}, "GATEWAY_WORKERS must be"),
        ({"GATEWAY_DRAIN_SECONDS": "-1"}, "GATEWAY_DRAIN_SECONDS must be between"),
        ({"GATEWAY_SHUTDOWN_GRACE": "soon"}, "GATEWAY_SHUTDOWN_GRACE must be a number"),
    ],
)
def test_a_wrong_setting_stops_serve_with_a_message_naming_it(
    env: dict[str, str], says: str
) -> None:
    result = run("serve", **env)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_command_prints_the_sdl() -> None:
    result = run("schema")
    assert result.returncode == 0
    assert "type Query {" in result.stdout
    assert "first: Int = 100" in result.stdout


def test_serve_with_two_workers_pages_across_them(sandbox_url: str, server_logs: Path) -> None:
    log = server_logs / "gateway-workers.log"
    with serve_gateway(sandbox_url, log, "--workers", "2") as url:
        # Ready means one worker answers; the other may still be importing on a loaded machine.
        deadline = time.monotonic() + 60
        while log.read_text().count("Started server process") < 2:
            assert time.monotonic() < deadline, "the second worker never started"
            time.sleep(0.05)
        seen: list[str] = []
        after = None
        for _ in range(6):
            # A new connection per page: the kernel spreads them over both workers, and each
            # accepts the cursors the other issued (they share the signing key).
            gateway = Gateway(url, secrets=(API_KEY,))
            page = gateway.query(
                "query($after: String) { interviews(first: 5, after: $after) "
                "{ nodes { id } pageInfo { endCursor } } }",
                {"after": after},
            )["interviews"]
            seen += [n["id"] for n in page["nodes"]]
            after = page["pageInfo"]["endCursor"]
            gateway.http.close()
        assert seen == gids(visible(DEFAULT_INTEGRATION))[:30]
    assert log.read_text().count("Started server process") >= 2


PAGE = (
    "query($after: String) { interviews(first: 5, after: $after) "
    "{ nodes { id } pageInfo { endCursor } } }"
)


def test_a_cursor_from_one_gateway_process_resumes_on_another(
    sandbox_url: str, server_logs: Path
) -> None:
    """Replicas sharing the API key accept each other's cursors (README: the signing key is
    derived from it); one with its own GATEWAY_CURSOR_SECRET refuses them."""
    with ExitStack() as stack:
        a, b, other = (
            Gateway(
                stack.enter_context(serve_gateway(sandbox_url, server_logs / log, **env)),
                secrets=(API_KEY,),
            )
            for log, env in [
                ("gateway-replica-a.log", {}),
                ("gateway-replica-b.log", {}),
                ("gateway-other-secret.log", {"GATEWAY_CURSOR_SECRET": "another-cursor-secret"}),
            ]
        )
        for gateway in (a, b, other):
            stack.callback(gateway.http.close)
        first = a.query(PAGE, {"after": None})["interviews"]
        cursor = first["pageInfo"]["endCursor"]
        second = b.query(PAGE, {"after": cursor})["interviews"]
        expected = gids(visible(DEFAULT_INTEGRATION))[:10]
        assert [n["id"] for n in first["nodes"] + second["nodes"]] == expected, "no gap, no repeat"

        [error] = other.errors(PAGE, {"after": cursor})
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["path"] == ["interviews"]
        # ... while it pages with its own cursors.
        own = other.query(PAGE, {"after": None})["interviews"]["pageInfo"]["endCursor"]
        resumed = other.query(PAGE, {"after": own})["interviews"]
        assert [n["id"] for n in resumed["nodes"]] == expected[5:]
