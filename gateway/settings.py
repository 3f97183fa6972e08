"""Environment → one validated :class:`Settings` object, read once at start.

Nothing else in the gateway reads ``os.environ``: the CLI builds a ``Settings`` with
:func:`Settings.from_env` and hands it to :func:`gateway.app.create_app`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

EU_BASE_URL = "https://api.kombo.dev/v1"
US_BASE_URL = "https://api.us.kombo.dev/v1"
SANDBOX_BASE_URL = "http://sandbox.kombo-gateway.invalid/v1"

AuthMode = Literal["none", "jwt"]


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and what it expects."""


@dataclass(frozen=True)
class Timeouts:
    """Upstream timeouts in seconds (httpx's connect/read/write/pool, and a total per call)."""

    connect: float = 5.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 5.0
    total: float = 20.0


@dataclass(frozen=True)
class Settings:
    """Everything the gateway is configured with (CONTRACT.md §3)."""

    kombo_api_key: str | None = None
    kombo_base_url: str = EU_BASE_URL
    kombo_integration_id: str | None = None
    auth: AuthMode = "none"
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = field(default=None, repr=False)
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_integration_claim: str = "kombo_integration_id"
    cors_origins: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    timeouts: Timeouts = field(default_factory=Timeouts)
    cursor_secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print the API key
        key = "set" if self.kombo_api_key else "unset"
        return (
            f"Settings(kombo_api_key=<{key}>, kombo_base_url={self.kombo_base_url!r}, "
            f"kombo_integration_id={self.kombo_integration_id!r}, auth={self.auth!r}, "
            f"host={self.host!r}, port={self.port})"
        )

    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a response or a log line."""
        values = (self.kombo_api_key, self.jwt_secret, self.cursor_secret)
        return tuple(v for v in values if v)

    @property
    def sandbox(self) -> bool:
        """True when no API key is configured: the gateway serves the embedded sandbox upstream."""
        return self.kombo_api_key is None

    @property
    def cursor_key(self) -> bytes:
        """The key that signs connection cursors.

        Derived from the API key (or ``GATEWAY_CURSOR_SECRET``) so that every replica sharing
        the key accepts the others' cursors, with no extra setting to keep in sync.
        """
        seed = self.cursor_secret or self.kombo_api_key or "kombo-gateway-sandbox"
        return hmac.new(seed.encode(), b"kombo-gateway edge cursor v1", hashlib.sha256).digest()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate the variables; raise :class:`SettingsError` on the first bad one."""

        def get(name: str) -> str | None:
            value = env.get(name)
            if value is None:
                return None
            value = value.strip()
            return value or None

        api_key = get("KOMBO_API_KEY")
        base_url = (get("KOMBO_BASE_URL") or EU_BASE_URL).rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(f"KOMBO_BASE_URL must be an http(s) URL, got {base_url!r}")

        auth = get("GATEWAY_AUTH") or "none"
        if auth not in ("none", "jwt"):
            raise SettingsError(f"GATEWAY_AUTH must be 'none' or 'jwt', got {auth!r}")
        if auth == "jwt":
            raise SettingsError(
                "GATEWAY_AUTH=jwt is not available in this version; use GATEWAY_AUTH=none"
            )

        port_text = get("PORT") or "8000"
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"PORT must be a whole number, got {port_text!r}") from None
        if not 0 <= port <= 65535:
            raise SettingsError(f"PORT must be between 0 and 65535, got {port}")

        workers_text = get("GATEWAY_WORKERS") or "1"
        if not workers_text.isdigit() or not 1 <= int(workers_text) <= 64:
            raise SettingsError(
                f"GATEWAY_WORKERS must be a whole number from 1 to 64, got {workers_text!r}"
            )

        host = get("HOST") or "127.0.0.1"
        if host != "localhost":
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise SettingsError(
                    f"HOST must be an IP address or 'localhost', got {host!r}"
                ) from None

        origins = tuple(
            o.strip() for o in (get("GATEWAY_CORS_ORIGINS") or "").split(",") if o.strip()
        )

        return cls(
            kombo_api_key=api_key,
            kombo_base_url=base_url,
            kombo_integration_id=get("KOMBO_INTEGRATION_ID"),
            auth="none",
            jwt_secret=get("GATEWAY_JWT_SECRET"),
            jwt_public_key=get("GATEWAY_JWT_PUBLIC_KEY"),
            jwt_audience=get("GATEWAY_JWT_AUDIENCE"),
            jwt_issuer=get("GATEWAY_JWT_ISSUER"),
            jwt_integration_claim=get("GATEWAY_JWT_INTEGRATION_CLAIM") or "kombo_integration_id",
            cors_origins=origins,
            host=host,
            port=port,
            workers=int(workers_text),
            cursor_secret=get("GATEWAY_CURSOR_SECRET"),
        )
