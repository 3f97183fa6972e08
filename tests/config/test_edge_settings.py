"""`GATEWAY_CORS_HEADERS` and `GATEWAY_HTTP_MAX_AGE` (README "Browsers: CORS", "HTTP caching"):
read, checked, and refused with a message naming the variable."""

from __future__ import annotations

import pytest

from gateway.config import Settings, SettingsError

ORIGIN = {"GATEWAY_CORS_ORIGINS": "https://app.example.com"}
JWT = {"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": "s" * 32}


def test_both_are_unset_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.cors_headers == ()
    assert settings.http_max_age is None


def test_cors_headers_are_split_trimmed_lowercased_and_deduplicated() -> None:
    env = {**ORIGIN, "GATEWAY_CORS_HEADERS": " X-Client-Version, x-feature-flags,X-CLIENT-VERSION "}
    assert Settings.from_env(env).cors_headers == ("x-client-version", "x-feature-flags")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_CORS_HEADERS": "x-client"}, "GATEWAY_CORS_ORIGINS, which is unset"),
        ({**ORIGIN, "GATEWAY_CORS_HEADERS": "*"}, "'*' is not accepted"),
        ({**ORIGIN, "GATEWAY_CORS_HEADERS": "x client"}, "got 'x client'"),
        ({**ORIGIN, "GATEWAY_CORS_HEADERS": "x-a,x:b"}, "got 'x:b'"),
        ({"GATEWAY_HTTP_MAX_AGE": "-1"}, "from 0 to 86400, got '-1'"),
        ({"GATEWAY_HTTP_MAX_AGE": "86401"}, "from 0 to 86400, got '86401'"),
        ({"GATEWAY_HTTP_MAX_AGE": "1.5"}, "got '1.5'"),
        ({"GATEWAY_HTTP_MAX_AGE": "60", **JWT}, "does not apply with GATEWAY_AUTH=jwt"),
    ],
)
def test_wrong_values_are_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as refused:
        Settings.from_env(env)
    variable = next(name for name in env if name in str(refused.value))
    assert variable in ("GATEWAY_CORS_HEADERS", "GATEWAY_HTTP_MAX_AGE")


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("60", 60), ("86400", 86_400)])
def test_http_max_age_within_its_range(value: str, expected: int) -> None:
    assert Settings.from_env({"GATEWAY_HTTP_MAX_AGE": value}).http_max_age == expected
