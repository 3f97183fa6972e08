"""`gateway.persisted.manifest` without a server: trusted-documents manifests in both formats,
and the refusals that name the entry at fault."""

from __future__ import annotations

import json

import pytest
from graphql import GraphQLSchema

from gateway.config import SettingsError
from gateway.persisted import TrustedDocumentsError, parse_manifest, sha256_hex
from tests.support.persisted_documents import (
    INTERVIEWS,
    TYPENAME,
    TYPENAME_HASH,
    apollo_manifest,
    operation,
)


def test_apollo_manifest_is_read(schema: GraphQLSchema) -> None:
    documents = parse_manifest(
        apollo_manifest(operation(INTERVIEWS), operation(TYPENAME, "T")), schema
    )

    assert dict(documents.documents) == {
        sha256_hex(INTERVIEWS): INTERVIEWS,
        TYPENAME_HASH: TYPENAME,
    }


def test_plain_map_is_read_with_or_without_sha256_prefix(schema: GraphQLSchema) -> None:
    text = json.dumps({sha256_hex(INTERVIEWS): INTERVIEWS, f"sha256:{TYPENAME_HASH}": TYPENAME})

    assert len(parse_manifest(text, schema)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ("{}", "lists no documents"),
        (f'{{"{TYPENAME_HASH}": "{TYPENAME}", "{TYPENAME_HASH}": "{TYPENAME}"}}', "appears twice"),
        (json.dumps({"format": "relay", "operations": []}), "unknown manifest format 'relay'"),
        (
            json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}),
            "version 2; expected 1",
        ),
        (apollo_manifest(), "lists no documents"),
        (
            apollo_manifest(operation(INTERVIEWS), operation(TYPENAME, "Short", id_="abc")),
            r"operations\[1\] \(Short\): the hash must be a SHA-256",
        ),
        (
            apollo_manifest(operation(INTERVIEWS, "Wrong", id_=TYPENAME_HASH)),
            r"operations\[0\] \(Wrong\): the hash is not the document's SHA-256 \(the document "
            f"hashes to {sha256_hex(INTERVIEWS)}\\)",
        ),
        (
            apollo_manifest(operation("{ noSuchField }", "Bad")),
            r"operations\[0\] \(Bad\): the document is invalid: Cannot query field 'noSuchField'",
        ),
        (
            json.dumps({sha256_hex("{ broken"): "{ broken"}),
            f"entry '{sha256_hex('{ broken')}': the document is invalid: Syntax Error",
        ),
        (json.dumps({TYPENAME_HASH: 42}), "the document must be a non-empty string"),
    ],
)
def test_bad_manifests_are_refused_naming_the_entry(
    schema: GraphQLSchema, text: str, message: str
) -> None:
    with pytest.raises(TrustedDocumentsError, match=message) as info:
        parse_manifest(text, schema, "manifest.json")

    assert isinstance(info.value, SettingsError)
    assert str(info.value).startswith("GATEWAY_TRUSTED_DOCUMENTS (manifest.json)")
