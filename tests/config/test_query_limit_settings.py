"""The settings that configure the query limits."""

from __future__ import annotations

import pytest

from gateway.config import Settings, SettingsError
from gateway.schema import QueryLimits


def test_settings_default_to_the_documented_limits() -> None:
    assert Settings.from_env({}).limits == QueryLimits(
        max_depth=12,
        max_aliases=100,
        max_tokens=5_000,
        max_cost=10_000,
        max_estimated_calls=50,
        upstream_budget=50,
        introspection=True,
    )


def test_settings_read_every_limit_from_its_variable() -> None:
    env = {
        "GATEWAY_MAX_DEPTH": "5",
        "GATEWAY_MAX_ALIASES": "6",
        "GATEWAY_MAX_TOKENS": "700",
        "GATEWAY_MAX_COST": "800",
        "GATEWAY_MAX_ESTIMATED_CALLS": "9",
        "GATEWAY_UPSTREAM_BUDGET": " 10 ",
        "GATEWAY_INTROSPECTION": "false",
    }
    assert Settings.from_env(env).limits == QueryLimits(5, 6, 700, 800, 9, 10, False)
    assert Settings.from_env({"GATEWAY_INTROSPECTION": "TRUE"}).limits.introspection is True


@pytest.mark.parametrize(
    "name", [v for k, v in QueryLimits.VARIABLES.items() if k != "introspection"]
)
@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5", "1000000000"])
def test_a_bad_limit_stops_the_start_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{name} must be a whole number from 1 to "):
        Settings.from_env({name: value})


def test_a_bad_introspection_switch_stops_the_start() -> None:
    with pytest.raises(SettingsError, match=r"^GATEWAY_INTROSPECTION must be 'true' or 'false'"):
        Settings.from_env({"GATEWAY_INTROSPECTION": "off-ish"})
