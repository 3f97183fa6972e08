"""The persisted-query variables of `gateway.settings` (`GATEWAY_APQ`,
`GATEWAY_APQ_CACHE_SIZE`, `GATEWAY_APQ_CACHE_BYTES`, `GATEWAY_TRUSTED_DOCUMENTS`): they belong
with the configuration's tests once the configuration reads them without loading the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.persisted import sha256_hex
from gateway.settings import PersistedQuerySettings, Settings, SettingsError
from tests.persisted.documents import INTERVIEWS, apollo_manifest, operation


def test_settings_defaults() -> None:
    settings = Settings.from_env({}).persisted_queries

    assert settings == PersistedQuerySettings(apq=True, cache_size=1000, cache_bytes=10_485_760)
    assert settings.trusted_documents is None


def test_settings_read_every_variable(tmp_path: Path) -> None:
    manifest = tmp_path / "trusted.json"
    manifest.write_text(apollo_manifest(operation(INTERVIEWS)))

    settings = Settings.from_env(
        {
            "GATEWAY_APQ": "false",
            "GATEWAY_APQ_CACHE_SIZE": "50",
            "GATEWAY_APQ_CACHE_BYTES": "65536",
            "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
        }
    ).persisted_queries

    assert (settings.apq, settings.cache_size, settings.cache_bytes) == (False, 50, 65536)
    assert settings.trusted_documents is not None
    assert settings.trusted_documents.get(sha256_hex(INTERVIEWS)) == INTERVIEWS
    assert settings.trusted_documents.source == str(manifest)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GATEWAY_APQ": "maybe"}, "GATEWAY_APQ must be 'true' or 'false'"),
        ({"GATEWAY_APQ_CACHE_SIZE": "0"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_SIZE": "lots"}, "GATEWAY_APQ_CACHE_SIZE must be a whole number"),
        ({"GATEWAY_APQ_CACHE_BYTES": "10"}, "GATEWAY_APQ_CACHE_BYTES must be a whole number"),
        ({"GATEWAY_TRUSTED_DOCUMENTS": "/no/such/manifest.json"}, "no such file"),
    ],
)
def test_settings_refuse_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
