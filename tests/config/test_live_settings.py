"""Live changes' variables: GATEWAY_LIVE_* and KOMBO_WEBHOOK_SECRET, read into the feed."""

from __future__ import annotations

import pytest

from gateway.app import live_feed_for
from gateway.config import LIVE_VARIABLES, LiveSettings, Settings, SettingsError
from gateway.live import LocalCoordinator
from gateway.live.redis import RedisCoordinator


def test_the_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.live == LiveSettings(
        poll_seconds=60.0,
        min_refresh_seconds=2.0,
        max_subscriptions_per_integration=1_000,
        max_subscriptions=10_000,
        queue_size=1_000,
        lease_seconds=15.0,
    )
    assert settings.kombo_webhook_secret is None
    feed = live_feed_for(settings, {})
    assert isinstance(feed.coordinator, LocalCoordinator)
    assert (feed.policy.poll_seconds, feed.policy.min_refresh_seconds) == (60.0, 2.0)
    assert (feed.max_subscriptions_per_integration, feed.max_subscriptions) == (1_000, 10_000)
    assert feed.queue_size == 1_000
    assert feed.policy.lease_seconds == 15.0


def test_every_variable_is_read() -> None:
    env = {
        "GATEWAY_LIVE_POLL_SECONDS": "30",
        "GATEWAY_LIVE_MIN_REFRESH_SECONDS": "0.5",
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION": "10",
        "GATEWAY_LIVE_MAX_SUBSCRIPTIONS": "20",
        "GATEWAY_LIVE_QUEUE_SIZE": "5",
        "GATEWAY_LIVE_LEASE_SECONDS": "2.5",
        "GATEWAY_REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    assert set(env) - {"GATEWAY_REDIS_URL"} == {name for name, _, _ in LIVE_VARIABLES.values()}
    settings = Settings.from_env(env)
    assert settings.live == LiveSettings(30.0, 0.5, 10, 20, 5, 2.5)
    feed = live_feed_for(settings, {})
    assert isinstance(feed.coordinator, RedisCoordinator)
    assert (feed.policy.poll_seconds, feed.policy.min_refresh_seconds) == (30.0, 0.5)
    assert (feed.max_subscriptions_per_integration, feed.max_subscriptions, feed.queue_size) == (
        10,
        20,
        5,
    )
    assert feed.policy.lease_seconds == 2.5


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_LIVE_POLL_SECONDS", "0"),
        ("GATEWAY_LIVE_POLL_SECONDS", "soon"),
        ("GATEWAY_LIVE_MIN_REFRESH_SECONDS", "-1"),
        ("GATEWAY_LIVE_MAX_SUBSCRIPTIONS", "0"),
        ("GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION", "1.5"),
        ("GATEWAY_LIVE_QUEUE_SIZE", "0"),
        ("GATEWAY_LIVE_LEASE_SECONDS", "0.5"),
        ("GATEWAY_LIVE_LEASE_SECONDS", "3601"),
        ("GATEWAY_LIVE_LEASE_SECONDS", "nan"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_the_integration_limit_cannot_exceed_the_process_limit() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION"):
        Settings.from_env(
            {
                "GATEWAY_LIVE_MAX_SUBSCRIPTIONS_PER_INTEGRATION": "11",
                "GATEWAY_LIVE_MAX_SUBSCRIPTIONS": "10",
            }
        )


def test_the_webhook_secret_is_redacted_and_never_printed() -> None:
    settings = Settings.from_env({"KOMBO_WEBHOOK_SECRET": "whsec-very-secret"})
    assert settings.kombo_webhook_secret == "whsec-very-secret"
    assert "whsec-very-secret" in settings.secrets()
    assert "whsec-very-secret" not in repr(settings)
