"""The cache's variables: GATEWAY_CACHE_TTL, GATEWAY_CACHE_MAX_*, GATEWAY_REDIS_URL."""

from __future__ import annotations

import pytest

from gateway.app import cache_summary, kombo_config
from gateway.config import Settings, SettingsError
from gateway.shared_redis import SharedRedis


def test_the_cache_is_off_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.response_cache.ttl == 0 and not settings.response_cache.enabled
    assert settings.redis_url is None
    assert kombo_config(settings).cache is None
    assert cache_summary(settings, None) is None


def test_a_ttl_turns_the_in_process_cache_on() -> None:
    settings = Settings.from_env(
        {
            "GATEWAY_CACHE_TTL": "5",
            "GATEWAY_CACHE_MAX_ENTRIES": "50",
            "GATEWAY_CACHE_MAX_BYTES": "2097152",
        }
    )
    cache = kombo_config(settings).cache
    assert cache is not None
    assert (cache.ttl, cache.max_entries, cache.max_bytes) == (5, 50, 2_097_152)
    assert cache_summary(settings, None) == (
        "response cache: TTL 5 s, in this process (at most 50 pages, 2 MiB)"
    )
    # README: GATEWAY_CACHE_MAX_ENTRIES and GATEWAY_CACHE_MAX_BYTES default to 1000 and 32 MiB.
    defaults = Settings.from_env({"GATEWAY_CACHE_TTL": "5"}).response_cache
    assert (defaults.max_entries, defaults.max_bytes) == (1000, 33_554_432)


@pytest.mark.parametrize("value", ["-1", "1.5", "soon", "86401"])
def test_a_bad_ttl_is_refused_by_name(value: str) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_CACHE_TTL must be a whole number"):
        Settings.from_env({"GATEWAY_CACHE_TTL": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [("GATEWAY_CACHE_MAX_ENTRIES", "0"), ("GATEWAY_CACHE_MAX_BYTES", "1000")],
)
def test_bad_bounds_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://cache.internal",
        "rediss://:pw@cache.internal:6380/3",
        "unix:///run/redis/redis.sock",
    ],
)
def test_redis_urls(url: str) -> None:
    assert Settings.from_env({"GATEWAY_REDIS_URL": url}).redis_url == url


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2-secret@cache:6379",
        "redis://:hunter2-secret@",
        "redis://:hunter2-secret@cache:port/0",
        "redis://:hunter2-secret@cache:6379/zero",
        "unix://",
    ],
)
def test_a_bad_redis_url_is_refused_without_repeating_it(url: str) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_REDIS_URL must look like") as refused:
        Settings.from_env({"GATEWAY_REDIS_URL": url})
    assert "hunter2" not in str(refused.value)


def test_the_redis_password_is_a_secret() -> None:
    settings = Settings.from_env({"GATEWAY_REDIS_URL": "redis://:p%40ss-w0rd@cache:6379/0"})
    assert {"p%40ss-w0rd", "p@ss-w0rd"} <= set(settings.secrets())
    assert "w0rd" not in repr(settings)
    assert "w0rd" not in SharedRedis(settings.redis_url or "").where


def test_the_summary_says_what_redis_holds() -> None:
    url = "redis://:secret-pw@cache.internal:6379/0"
    redis = SharedRedis(url)
    shared = Settings.from_env({"GATEWAY_CACHE_TTL": "10", "GATEWAY_REDIS_URL": url})
    assert cache_summary(shared, redis) == (
        "response cache: TTL 10 s, shared in Redis at redis://cache.internal:6379/0; "
        "APQ documents shared in Redis at redis://cache.internal:6379/0"
    )
    apq_only = Settings.from_env({"GATEWAY_REDIS_URL": url})
    assert cache_summary(apq_only, redis) == (
        "APQ documents shared in Redis at redis://cache.internal:6379/0"
    )
