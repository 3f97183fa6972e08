"""`gateway.persisted.protocol` without a server: the document hash and the extension's
checks."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidPersistedQuery
from gateway.persisted import requested_hash, sha256_hex
from gateway.persisted.protocol import document_id_hash, with_document_id
from tests.support.persisted_documents import TYPENAME, TYPENAME_HASH, persisted


def test_sha256_hex_is_the_hash_apollo_clients_send() -> None:
    # SHA-256 of the exact UTF-8 text, lowercase hex: whitespace matters.
    assert sha256_hex(TYPENAME) == TYPENAME_HASH
    assert sha256_hex("{__typename}") == (
        "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"
    )
    assert sha256_hex("é") == "4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c"


def test_requested_hash_reads_version_1_and_lowercases() -> None:
    assert requested_hash(None) is None
    assert requested_hash({}) is None
    assert requested_hash({"persistedQuery": None}) is None
    assert requested_hash(persisted(TYPENAME_HASH.upper())) == TYPENAME_HASH
    # urql marks its retry with `miss: true`; unknown keys are ignored.
    assert requested_hash(persisted(TYPENAME_HASH, miss=True)) == TYPENAME_HASH


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_only_version_1_is_supported(version: object) -> None:
    with pytest.raises(InvalidPersistedQuery, match="Unsupported persisted query version") as info:
        requested_hash(persisted(TYPENAME_HASH, version=version))
    assert (info.value.code, info.value.http_status) == ("BAD_USER_INPUT", 400)


@pytest.mark.parametrize("sha256_hash", [None, 42, "", "abc", TYPENAME_HASH + "0", "g" * 64])
def test_hash_must_be_64_hex_digits(sha256_hash: object) -> None:
    with pytest.raises(InvalidPersistedQuery, match="sha256Hash"):
        requested_hash(persisted(sha256_hash))  # type: ignore[arg-type]


def test_extension_must_be_an_object() -> None:
    with pytest.raises(InvalidPersistedQuery, match="must be a JSON object"):
        requested_hash({"persistedQuery": "yes"})


def test_requested_hash_takes_a_sha256_prefix() -> None:
    # GraphQL Code Generator's client preset: `__meta__.hash` is "sha256:<hex>".
    assert requested_hash(persisted(f"sha256:{TYPENAME_HASH}")) == TYPENAME_HASH
    assert requested_hash(persisted(f"SHA256:{TYPENAME_HASH.upper()}")) == TYPENAME_HASH
    for wrong in (f"sha1:{TYPENAME_HASH}", f"sha256:sha256:{TYPENAME_HASH}", "sha256:"):
        with pytest.raises(InvalidPersistedQuery):
            requested_hash(persisted(wrong))


def test_document_id_is_sha256_prefixed_hex() -> None:
    assert document_id_hash(f"sha256:{TYPENAME_HASH}") == TYPENAME_HASH
    assert document_id_hash(f"sha256:{TYPENAME_HASH.upper()}") == TYPENAME_HASH
    for wrong in (TYPENAME_HASH, f"x-{TYPENAME_HASH}", "sha256:abc", None, 1, ["sha256:"]):
        with pytest.raises(InvalidPersistedQuery, match='"documentId"'):
            document_id_hash(wrong)


def test_a_document_id_becomes_the_apollo_extension_when_it_agrees() -> None:
    assert with_document_id(None, None, TYPENAME) is None
    assert with_document_id({"a": 1}, None, None) == {"a": 1}
    folded = with_document_id({"a": 1}, TYPENAME_HASH, TYPENAME)
    assert folded == {"a": 1, **persisted(TYPENAME_HASH)}
    assert requested_hash(folded) == TYPENAME_HASH
    assert with_document_id(persisted(f"sha256:{TYPENAME_HASH}"), TYPENAME_HASH, None)
    with pytest.raises(InvalidPersistedQuery, match="query"):
        with_document_id(None, TYPENAME_HASH, "{ other }")
    with pytest.raises(InvalidPersistedQuery, match="different documents"):
        with_document_id(persisted("0" * 64), TYPENAME_HASH, None)
