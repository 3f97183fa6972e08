"""The command line: clear configuration errors, the SDL on stdout."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT


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
