"""A bad query limit stops ``serve`` at start (README "Configuration"): the process exits before it
is ready, its log naming the variable. The limits themselves run on the app in-process, in
``tests/schema/limits/test_refusal.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import free_port, run_server


def test_a_bad_limit_stops_the_gateway_at_start(tmp_path: Path) -> None:
    port = free_port()
    env = {"GATEWAY_MAX_DEPTH": "0", "KOMBO_API_KEY": "", "PORT": str(port)}
    with (
        pytest.raises(RuntimeError, match="GATEWAY_MAX_DEPTH must be a whole number"),
        run_server(["serve"], env, "/readyz", port, tmp_path / "gateway.log"),
    ):
        pass
