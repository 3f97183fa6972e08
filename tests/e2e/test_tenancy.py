"""Tenancy where the gateway's own process is the point (README "Security"): what its log file
holds, and ``serve`` refusing to start or listening on every interface.

- ``GATEWAY_AUTH=jwt`` with HS256, RS256 and ES256 gateways, each its own process: no token
  reaches the server's log.
- ``GATEWAY_AUTH=none`` with a real key refuses to listen beyond loopback unless overridden.

The JWT matrix, CORS and the body limit run on the app in-process, in ``tests/test_auth.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.sandbox.data import INTEGRATIONS
from tests.support.clients import Gateway
from tests.support.secret_scanning import API_KEY
from tests.support.servers import ROOT, free_port, serve_gateway
from tests.support.tenancy_tokens import AUDIENCE, ISSUER, Issuer, make_issuer

A = INTEGRATIONS[0]
APP_ORIGIN = "https://app.example.com"
DEV_ORIGIN = "http://localhost:5173"

LIST = "query($first: Int, $after: String) { interviews(first: $first, after: $after) { edges { cursor node { id } } pageInfo { endCursor } } }"  # noqa: E501
TYPENAME = "{ __typename }"


class JwtGateway(Gateway):
    """A JWT gateway and the issuer it trusts."""

    def __init__(self, url: str, issuer: Issuer) -> None:
        secrets = (API_KEY, *issuer.gateway_env.values())
        super().__init__(url, secrets=tuple(s for s in secrets if "PUBLIC KEY" not in s))
        self.issuer = issuer

    def as_(self, integration: str | None = A, **overrides: Any) -> dict[str, str]:
        """Headers for a request bearing a valid token for ``integration``."""
        return bearer(self.issuer.token(integration, **overrides))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=["HS256", "RS256", "ES256"])
def jwt_gateway(
    request: pytest.FixtureRequest, sandbox_url: str, server_logs: Path
) -> Iterator[JwtGateway]:
    """A gateway trusting one issuer; KOMBO_INTEGRATION_ID is set, to prove it is never used."""
    issuer = make_issuer(request.param)
    with serve_gateway(
        sandbox_url,
        server_logs / f"gateway-jwt-{request.param}.log",
        GATEWAY_AUTH="jwt",
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_CORS_ORIGINS=f"{APP_ORIGIN},{DEV_ORIGIN}",
        **issuer.gateway_env,
    ) as url:
        yield JwtGateway(url, issuer)


def test_no_token_reaches_the_server_log(jwt_gateway: JwtGateway, server_logs: Path) -> None:
    token = jwt_gateway.issuer.token(A)
    jwt_gateway.post(TYPENAME, headers=bearer(token))
    jwt_gateway.post(TYPENAME, headers=bearer(token + "x"))
    log = (server_logs / f"gateway-jwt-{jwt_gateway.issuer.algorithm}.log").read_text()
    assert token not in log
    assert token.split(".")[2] not in log


# --- no auth: loopback only, unless overridden ----------------------------------------------------


def serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", *args],
        cwd=ROOT,
        env={**os.environ, "GATEWAY_ALLOW_UNAUTHENTICATED": "", "GATEWAY_AUTH": "", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "env"),
    [
        ((), {"HOST": "0.0.0.0"}),
        (("--host", "0.0.0.0"), {}),
        (("--host", "::"), {}),
    ],
    ids=["HOST", "--host", "--host-ipv6"],
)
def test_serve_without_auth_refuses_a_public_address_with_a_real_key_and_says_why(
    args: tuple[str, ...], env: dict[str, str]
) -> None:
    result = serve(*args, KOMBO_API_KEY=API_KEY, PORT=str(free_port()), **env)
    assert result.returncode == 2, result.stderr
    assert "is not a loopback address" in result.stderr
    assert "read every integration" in result.stderr
    assert "GATEWAY_ALLOW_UNAUTHENTICATED=true" in result.stderr
    assert API_KEY not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_serve_with_jwt_misconfigured_exits_2_naming_the_variables() -> None:
    result = serve(KOMBO_API_KEY=API_KEY, GATEWAY_AUTH="jwt", PORT=str(free_port()))
    assert result.returncode == 2
    assert "GATEWAY_JWT_SECRET" in result.stderr
    assert "GATEWAY_JWT_PUBLIC_KEY" in result.stderr


def test_the_override_lets_an_unauthenticated_gateway_listen_on_every_interface(
    sandbox_url: str, server_logs: Path
) -> None:
    with serve_gateway(
        sandbox_url,
        server_logs / "gateway-open.log",
        KOMBO_INTEGRATION_ID=A,
        GATEWAY_ALLOW_UNAUTHENTICATED="true",
        HOST="0.0.0.0",
    ) as url:
        gateway = Gateway(url, secrets=(API_KEY,))
        assert gateway.query(LIST, {"first": 2})["interviews"]["edges"]
