"""Settings: every wrong value stops the start with a message naming its variable; the security
rules (JWT keys, loopback without auth, CORS origins, body limit) hold at configuration time, and
the checks that need other code (a JWT public key, the trusted-documents manifest) when the app
is assembled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from gateway.app import create_app
from gateway.config import PersistedQuerySettings, Settings, SettingsError
from gateway.persisted import sha256_hex
from tests.support.persisted_documents import INTERVIEWS, apollo_manifest, operation

SECRET = "s3cret-" + "x" * 32
API_KEY = {"KOMBO_API_KEY": "kombo-live-key"}


def public_pem(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="module")
def ec_pem() -> str:
    return public_pem(ec.generate_private_key(ec.SECP256R1()))


def refused(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as info:
        Settings.from_env(env)
    return str(info.value)


def refused_by_the_app(env: dict[str, str]) -> str:
    """What stops the start once the settings are read: ``create_app`` checks what needs the
    gateway's other code (a JWT public key, the manifest, the sandbox's fault names)."""
    with pytest.raises(SettingsError) as info:
        create_app(Settings.from_env(env))
    return str(info.value)


def test_defaults_are_the_contracts() -> None:
    settings = Settings.from_env({})
    assert settings.auth == "none"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.cors_origins == ()
    assert settings.max_body_bytes == 1_048_576
    assert settings.allow_unauthenticated is False
    assert settings.jwt_integration_claim == "kombo_integration_id"


def test_defaults_are_the_readmes() -> None:
    """The defaults of README "Configuration", written down here, not read from the code."""
    settings = Settings.from_env({})
    resilience = settings.resilience
    assert resilience.retries == 3
    assert resilience.request_timeout == 10
    assert resilience.upstream_concurrency == 8
    assert (resilience.retry_base_delay, resilience.retry_max_delay) == (0.2, 5)
    cache = settings.response_cache
    assert (cache.ttl, cache.max_entries, cache.max_bytes) == (0, 1000, 32 * 1_048_576)
    limits = settings.limits
    assert (limits.max_depth, limits.max_aliases, limits.max_tokens) == (12, 100, 5_000)
    assert (limits.max_cost, limits.max_estimated_calls) == (10_000, 50)
    assert limits.upstream_budget == 50
    assert settings.max_inflight_cost == 10_000
    assert settings.sandbox_change_every == 0  # `make run` sets 5


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"KOMBO_BASE_URL": "ftp://api.kombo.dev"}, "KOMBO_BASE_URL"),
        ({"GATEWAY_AUTH": "basic"}, "GATEWAY_AUTH"),
        ({"SANDBOX_CHANGE_EVERY": "-1"}, "SANDBOX_CHANGE_EVERY"),
        ({"SANDBOX_CHANGE_EVERY": "soon"}, "SANDBOX_CHANGE_EVERY"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "65536"}, "PORT"),
        ({"HOST": "my host"}, "HOST"),
        ({"GATEWAY_ALLOW_UNAUTHENTICATED": "perhaps"}, "GATEWAY_ALLOW_UNAUTHENTICATED"),
        ({"GATEWAY_MAX_BODY_BYTES": "1MiB"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_MAX_BODY_BYTES": "-5"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_MAX_BODY_BYTES": "1e6"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_MAX_BODY_BYTES": "1023"}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_MAX_BODY_BYTES": str(64 * 1_048_576 + 1)}, "GATEWAY_MAX_BODY_BYTES"),
        ({"GATEWAY_UPSTREAM_MAX_BYTES": "16MiB"}, "GATEWAY_UPSTREAM_MAX_BYTES"),
        ({"GATEWAY_UPSTREAM_MAX_BYTES": "1048575"}, "GATEWAY_UPSTREAM_MAX_BYTES"),
        ({"GATEWAY_UPSTREAM_MAX_BYTES": str(2**30 + 1)}, "GATEWAY_UPSTREAM_MAX_BYTES"),
        ({"GATEWAY_CORS_ORIGINS": "https://app.example.com/"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_CORS_ORIGINS": "https://app.example.com/graphql"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_CORS_ORIGINS": "app.example.com"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_CORS_ORIGINS": "ftp://app.example.com"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_CORS_ORIGINS": "https://app.example.com:port"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_CORS_ORIGINS": "*, https://app.example.com"}, "GATEWAY_CORS_ORIGINS"),
        ({"GATEWAY_AUTH": "jwt"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": "short"}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_JWT_SECRET": SECRET}, "GATEWAY_JWT_SECRET"),
        ({"GATEWAY_MAX_INFLIGHT_COST": "lots"}, "GATEWAY_MAX_INFLIGHT_COST"),
        ({"GATEWAY_MAX_INFLIGHT_COST": "0"}, "GATEWAY_MAX_INFLIGHT_COST"),
    ],
)
def test_each_wrong_value_is_refused_with_a_message_naming_its_variable(
    env: dict[str, str], variable: str
) -> None:
    assert variable in refused(env)


def test_a_public_key_that_is_no_pem_is_refused_naming_its_variable() -> None:
    env = {"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_PUBLIC_KEY": "not a pem"}
    assert "GATEWAY_JWT_PUBLIC_KEY" in refused_by_the_app(env)


def test_a_wrong_value_is_quoted_back_so_the_operator_sees_the_typo() -> None:
    assert "'1MiB'" in refused({"GATEWAY_MAX_BODY_BYTES": "1MiB"})
    assert "'https://app.example.com/'" in refused(
        {"GATEWAY_CORS_ORIGINS": "https://app.example.com/"}
    )


def test_the_memory_budget_admits_every_request_the_limits_allow() -> None:
    """Below GATEWAY_MAX_COST a request the limits let through could never be admitted: the
    gateway refuses to start, naming both variables."""
    message = refused({"GATEWAY_MAX_INFLIGHT_COST": "9999"})
    assert "GATEWAY_MAX_INFLIGHT_COST (9999) must be at least GATEWAY_MAX_COST (10000)" in message
    message = refused({"GATEWAY_MAX_COST": "20000"})  # the default budget is too small for it
    assert "GATEWAY_MAX_COST (20000)" in message
    both = {"GATEWAY_MAX_COST": "20000", "GATEWAY_MAX_INFLIGHT_COST": "20000"}
    assert Settings.from_env(both).max_inflight_cost == 20_000
    assert Settings.from_env({"GATEWAY_MAX_COST": "500", "GATEWAY_MAX_INFLIGHT_COST": "500"})


# --- JWT ---------------------------------------------------------------------------------------


def test_jwt_with_a_secret(rsa_pem: str) -> None:
    settings = Settings.from_env(
        {
            "GATEWAY_AUTH": "jwt",
            "GATEWAY_JWT_SECRET": SECRET,
            "GATEWAY_JWT_AUDIENCE": "kombo-gateway",
            "GATEWAY_JWT_ISSUER": "https://auth.example.com/",
            "GATEWAY_JWT_INTEGRATION_CLAIM": "tenant",
        }
    )
    assert settings.auth == "jwt"
    assert settings.jwt_secret == SECRET
    assert settings.jwt_public_key is None
    assert (settings.jwt_audience, settings.jwt_issuer) == (
        "kombo-gateway",
        "https://auth.example.com/",
    )
    assert settings.jwt_integration_claim == "tenant"
    assert SECRET not in repr(settings)
    assert SECRET in settings.secrets()


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_jwt_with_a_public_key(kind: str, rsa_pem: str, ec_pem: str) -> None:
    pem = rsa_pem if kind == "rsa" else ec_pem
    settings = Settings.from_env({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_PUBLIC_KEY": pem})
    assert settings.auth == "jwt"
    assert settings.jwt_public_key == pem.strip()


def test_a_pem_written_on_one_line_with_literal_newlines_is_accepted(rsa_pem: str) -> None:
    one_line = rsa_pem.strip().replace("\n", "\\n")
    settings = Settings.from_env({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_PUBLIC_KEY": one_line})
    assert settings.jwt_public_key == rsa_pem.strip()


def test_jwt_needs_exactly_one_key_and_says_which_variables(rsa_pem: str) -> None:
    neither = refused({"GATEWAY_AUTH": "jwt"})
    both = refused(
        {"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": SECRET, "GATEWAY_JWT_PUBLIC_KEY": rsa_pem}
    )
    for message in (neither, both):
        assert "GATEWAY_JWT_SECRET" in message
        assert "GATEWAY_JWT_PUBLIC_KEY" in message
    assert "neither" in neither
    assert "both" in both


def test_an_hs256_secret_shorter_than_the_hash_is_refused() -> None:
    message = refused({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": "x" * 31})
    assert "at least 32 bytes" in message
    assert Settings.from_env({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": "x" * 32}).auth == "jwt"


@pytest.mark.parametrize(
    ("key", "says"),
    [
        (lambda: public_pem(rsa.generate_private_key(65537, 1024)), "1024-bit RSA key"),
        (lambda: public_pem(ec.generate_private_key(ec.SECP384R1())), "P-256"),
        (lambda: public_pem(ed25519.Ed25519PrivateKey.generate()), "RSA (RS256) or EC P-256"),
        (
            lambda: (
                rsa.generate_private_key(65537, 2048)
                .private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
                .decode()
            ),
            "not a PEM public key",
        ),
        (lambda: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "not a PEM"),
    ],
    ids=["rsa-1024", "ec-p384", "ed25519", "private-key", "garbage"],
)
def test_a_public_key_that_is_not_a_usable_rs256_or_es256_key_is_refused_at_start(
    key: Callable[[], str], says: str
) -> None:
    pem = key()
    message = refused_by_the_app({"GATEWAY_AUTH": "jwt", "GATEWAY_JWT_PUBLIC_KEY": pem})
    assert message.startswith("GATEWAY_JWT_PUBLIC_KEY")
    assert says in message
    assert "PRIVATE" not in message


@pytest.mark.parametrize("variable", ["GATEWAY_JWT_SECRET", "GATEWAY_JWT_PUBLIC_KEY"])
def test_a_jwt_key_without_gateway_auth_jwt_is_refused_not_silently_ignored(variable: str) -> None:
    message = refused({variable: SECRET})
    assert variable in message
    assert "GATEWAY_AUTH=jwt" in message


# --- listening without authentication ----------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "10.0.0.1"])
def test_no_auth_with_a_real_key_refuses_a_non_loopback_host_and_says_why(host: str) -> None:
    message = refused({**API_KEY, "HOST": host})
    assert f"HOST={host}" in message
    assert "every integration" in message
    assert "GATEWAY_ALLOW_UNAUTHENTICATED=true" in message
    assert "GATEWAY_AUTH=jwt" in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_no_auth_with_a_real_key_may_listen_on_loopback(host: str) -> None:
    assert Settings.from_env({**API_KEY, "HOST": host}).host == host


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_the_override_lets_an_unauthenticated_gateway_listen_anywhere(value: str) -> None:
    settings = Settings.from_env(
        {**API_KEY, "HOST": "0.0.0.0", "GATEWAY_ALLOW_UNAUTHENTICATED": value}
    )
    assert settings.allow_unauthenticated is True
    assert settings.host == "0.0.0.0"


def test_the_override_set_to_false_still_refuses() -> None:
    assert "HOST=0.0.0.0" in refused(
        {**API_KEY, "HOST": "0.0.0.0", "GATEWAY_ALLOW_UNAUTHENTICATED": "false"}
    )


def test_sandbox_mode_and_jwt_mode_may_listen_anywhere() -> None:
    assert Settings.from_env({"HOST": "0.0.0.0"}).sandbox
    jwt_env = {**API_KEY, "HOST": "0.0.0.0", "GATEWAY_AUTH": "jwt", "GATEWAY_JWT_SECRET": SECRET}
    assert Settings.from_env(jwt_env).host == "0.0.0.0"


# --- browsers ----------------------------------------------------------------------------------


def test_cors_origins_are_split_trimmed_and_kept_in_order() -> None:
    settings = Settings.from_env(
        {"GATEWAY_CORS_ORIGINS": " https://app.example.com , http://localhost:5173,"}
    )
    assert settings.cors_origins == ("https://app.example.com", "http://localhost:5173")


def test_a_lone_wildcard_origin_is_allowed() -> None:
    assert Settings.from_env({"GATEWAY_CORS_ORIGINS": "*"}).cors_origins == ("*",)


@pytest.mark.parametrize("value", ["1024", "65536", str(64 * 1_048_576)])
def test_the_body_limit_is_configurable_within_its_bounds(value: str) -> None:
    assert Settings.from_env({"GATEWAY_MAX_BODY_BYTES": value}).max_body_bytes == int(value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, 16 * 1_048_576), ({"GATEWAY_UPSTREAM_MAX_BYTES": "1048576"}, 1_048_576)],
)
def test_upstream_max_bytes_reaches_the_kombo_client(env: dict[str, str], expected: int) -> None:
    from gateway.app import kombo_config

    settings = Settings.from_env({"KOMBO_API_KEY": "k", **env})
    assert settings.upstream_max_bytes == expected
    assert kombo_config(settings).max_response_bytes == expected


# --- persisted queries -------------------------------------------------------------------------


def test_persisted_query_defaults() -> None:
    settings = Settings.from_env({}).persisted_queries

    assert settings == PersistedQuerySettings(apq=True, cache_size=1000, cache_bytes=10_485_760)
    assert settings.trusted_documents_path is None


def test_persisted_query_settings_read_every_variable(tmp_path: Path) -> None:
    from gateway.app import trusted_documents_for

    manifest = tmp_path / "trusted.json"
    manifest.write_text(apollo_manifest(operation(INTERVIEWS)))

    whole = Settings.from_env(
        {
            "GATEWAY_APQ": "false",
            "GATEWAY_APQ_CACHE_SIZE": "50",
            "GATEWAY_APQ_CACHE_BYTES": "65536",
            "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
        }
    )
    settings = whole.persisted_queries

    assert (settings.apq, settings.cache_size, settings.cache_bytes) == (False, 50, 65536)
    trusted_documents = trusted_documents_for(whole)  # what create_app loads and checks
    assert trusted_documents is not None
    assert trusted_documents.get(sha256_hex(INTERVIEWS)) == INTERVIEWS
    assert trusted_documents.source == str(manifest)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_APQ": "maybe"}, "GATEWAY_APQ must be 'true' or 'false'"),
        ({"GATEWAY_APQ_CACHE_SIZE": "0"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_SIZE": "lots"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_BYTES": "10"}, "GATEWAY_APQ_CACHE_BYTES must be a whole number"),
    ],
)
def test_persisted_query_settings_refuse_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_a_missing_manifest_stops_the_app_from_being_assembled() -> None:
    message = refused_by_the_app({"GATEWAY_TRUSTED_DOCUMENTS": "/no/such/manifest.json"})
    assert "no such file" in message


# --- the sandbox's faults ----------------------------------------------------------------------


def test_an_unknown_fault_scenario_stops_the_app_from_being_assembled() -> None:
    message = refused_by_the_app({"SANDBOX_FAULTS": "rate-limit,nope"})
    assert "SANDBOX_FAULTS: unknown scenario(s) nope" in message
