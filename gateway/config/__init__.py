"""The gateway's configuration: the environment read once into one validated :class:`Settings`
(README "Configuration"). A leaf: it imports nothing else of the gateway.

``settings`` holds the dataclasses and :meth:`Settings.from_env`; ``readers`` the typed readers
of one variable each, and :class:`SettingsError`.
"""

from gateway.config.readers import Environment, SettingsError
from gateway.config.settings import (
    DEFAULT_UPSTREAM_MAX_BYTES,
    EU_BASE_URL,
    LIVE_VARIABLES,
    MIN_SECRET_BYTES,
    SANDBOX_BASE_URL,
    US_BASE_URL,
    AuthMode,
    ConnectionLimits,
    LiveSettings,
    LiveTransportSettings,
    LogFormat,
    LogSettings,
    PersistedQuerySettings,
    QueryLimits,
    Resilience,
    ResponseCacheSettings,
    Settings,
    Timeouts,
    TracingSettings,
)

__all__ = [
    "DEFAULT_UPSTREAM_MAX_BYTES",
    "EU_BASE_URL",
    "LIVE_VARIABLES",
    "MIN_SECRET_BYTES",
    "SANDBOX_BASE_URL",
    "US_BASE_URL",
    "AuthMode",
    "ConnectionLimits",
    "Environment",
    "LiveSettings",
    "LiveTransportSettings",
    "LogFormat",
    "LogSettings",
    "PersistedQuerySettings",
    "QueryLimits",
    "Resilience",
    "ResponseCacheSettings",
    "Settings",
    "SettingsError",
    "Timeouts",
    "TracingSettings",
]
