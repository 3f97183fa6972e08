"""A sandbox process that sends its signed ``data-changed`` webhooks to a gateway process reading
it: the live tests' whole stack, nothing injected (a change is made upstream, the gateway hears of
it as it would from Kombo)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.live import metric_value
from tests.support.secret_scanning import API_KEY
from tests.support.servers import free_port, gateway_env, run_server


class WebhookedStack:
    """The gateway's URL and the sandbox's controls."""

    def __init__(self, gateway: str, sandbox: httpx.Client) -> None:
        self.gateway = gateway
        self.sandbox = sandbox

    def subscribers(self) -> int:
        """The gateway's open subscriptions (``kombo_gateway_live_subscribers``)."""
        text = httpx.get(self.gateway + "/metrics", timeout=5).text
        return int(metric_value(text, "kombo_gateway_live_subscribers"))

    def wait_for_subscribers(self, count: int, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (seen := self.subscribers()) != count:
            assert time.monotonic() < deadline, f"{seen} live subscribers, not {count}"
            time.sleep(0.02)

    def change(self, integration: str, model: str, **extra: Any) -> dict[str, Any]:
        """Edit one record upstream; the gateway has answered its webhook when this returns."""
        response = self.sandbox.post(
            "/__sandbox/changes", json={"integration_id": integration, "model": model, **extra}
        )
        assert response.status_code == 201, response.text
        edit = dict(response.json())
        assert edit["webhook"] == {"status": 200}, edit
        return edit


@contextmanager
def webhooked_stack(
    logs: Path, name: str, secret: str, **gateway_extra: str
) -> Iterator[WebhookedStack]:
    """The sandbox (signing with ``secret``) and ``serve`` (``KOMBO_WEBHOOK_SECRET``, and
    ``gateway_extra``), logging to ``logs`` as ``sandbox-<name>.log`` and ``gateway-<name>.log``."""
    sandbox_port, gateway_port = free_port(), free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    sandbox_args = ["sandbox", "--port", str(sandbox_port), "--api-key", API_KEY,
                    "--webhook-url", gateway + "/webhooks/kombo"]  # fmt: skip
    env = gateway_env(
        f"http://127.0.0.1:{sandbox_port}",
        gateway_port,
        KOMBO_WEBHOOK_SECRET=secret,
        **gateway_extra,
    )
    with (
        run_server(
            sandbox_args,
            {"SANDBOX_WEBHOOK_SECRET": secret},
            "/healthz",
            sandbox_port,
            logs / f"sandbox-{name}.log",
        ) as sandbox_url,
        run_server(["serve"], env, "/readyz", gateway_port, logs / f"gateway-{name}.log"),
        httpx.Client(base_url=sandbox_url, timeout=10) as sandbox,
    ):
        yield WebhookedStack(gateway, sandbox)
