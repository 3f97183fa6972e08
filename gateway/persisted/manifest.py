"""The trusted-documents manifest (`GATEWAY_TRUSTED_DOCUMENTS`): read, every hash and
document checked against the schema at start, and held by hash (README "Trusted documents")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse, validate

from gateway.config import SettingsError
from gateway.persisted.protocol import SHA256_HEX, sha256_hex

__all__ = [
    "APOLLO_MANIFEST_FORMAT",
    "TrustedDocuments",
    "TrustedDocumentsError",
    "document_errors",
    "load_trusted_documents",
    "parse_manifest",
]

APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"


@dataclass(frozen=True)
class TrustedDocuments:
    """The documents of a trusted-documents manifest, by SHA-256 hex hash, all checked to parse
    and validate against the schema."""

    documents: Mapping[str, str]
    source: str = "<memory>"

    def __len__(self) -> int:
        return len(self.documents)

    def get(self, sha256_hash: str) -> str | None:
        """The document with this hash, or None."""
        return self.documents.get(sha256_hash)


class TrustedDocumentsError(SettingsError):
    """The trusted-documents manifest cannot be used; the message names the file and entry."""


def load_trusted_documents(
    path: str | Path, schema: GraphQLSchema | None = None
) -> TrustedDocuments:
    """Read and check a manifest (see `parse_manifest`) against `schema` (the gateway's own
    when None). Raises `TrustedDocumentsError` naming the file and, when one is at fault, the
    entry."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrustedDocumentsError(f"GATEWAY_TRUSTED_DOCUMENTS: no such file {source!r}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustedDocumentsError(
            f"GATEWAY_TRUSTED_DOCUMENTS: cannot read {source!r}: {exc}"
        ) from None
    if schema is None:
        from gateway.schema import build_schema

        schema = build_schema()._schema
    return parse_manifest(text, schema, source)


def parse_manifest(text: str, schema: GraphQLSchema, source: str = "<memory>") -> TrustedDocuments:
    """A manifest in one of two formats:

    - Apollo's persisted-query manifest: `{"format": "apollo-persisted-query-manifest",
      "version": 1, "operations": [{"id", "name", "type", "body"}, ...]}`, where `id` is the
      SHA-256 of `body` (the generator's default);
    - a plain map `{"<sha256>": "<document>", ...}` (GraphQL Code Generator's
      `persisted-documents.json`; keys may carry a `sha256:` prefix).

    Every hash must be its document's SHA-256, and every document must parse and validate
    against `schema`; the first entry that does not is named in the `TrustedDocumentsError`.
    """
    where = f"GATEWAY_TRUSTED_DOCUMENTS ({source})"
    try:
        payload = json.loads(text, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        raise TrustedDocumentsError(f"{where}: the key {exc.key!r} appears twice") from None
    except (ValueError, RecursionError) as exc:
        raise TrustedDocumentsError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise TrustedDocumentsError(
            f"{where}: expected a JSON object (Apollo's persisted-query manifest, or a map "
            "from SHA-256 hashes to documents)"
        )

    entries: list[tuple[str, str, object]]  # (entry name, hash, document)
    if "format" in payload or "operations" in payload:
        entries = _apollo_entries(payload, where)
    else:
        entries = [
            (f"entry {key!r}", key.removeprefix("sha256:"), document)
            for key, document in payload.items()
        ]
    if not entries:
        raise TrustedDocumentsError(f"{where}: the manifest lists no documents")

    documents: dict[str, str] = {}
    for entry, sha256_hash, document in entries:
        prefix = f"{where}, {entry}"
        if not isinstance(document, str) or not document.strip():
            raise TrustedDocumentsError(f"{prefix}: the document must be a non-empty string")
        if not SHA256_HEX.fullmatch(sha256_hash):
            raise TrustedDocumentsError(
                f"{prefix}: the hash must be a SHA-256 as 64 lowercase hexadecimal digits, "
                f"got {sha256_hash!r}"
            )
        actual = sha256_hex(document)
        if actual != sha256_hash:
            raise TrustedDocumentsError(
                f"{prefix}: the hash is not the document's SHA-256 (the document hashes to "
                f"{actual})"
            )
        errors = document_errors(schema, document)
        if errors:
            raise TrustedDocumentsError(f"{prefix}: the document is invalid: {errors[0]}")
        documents[sha256_hash] = document
    return TrustedDocuments(documents, source)


def _apollo_entries(payload: dict[str, Any], where: str) -> list[tuple[str, str, object]]:
    if payload.get("format") != APOLLO_MANIFEST_FORMAT:
        raise TrustedDocumentsError(
            f"{where}: unknown manifest format {payload.get('format')!r}; expected "
            f"{APOLLO_MANIFEST_FORMAT!r}"
        )
    if payload.get("version") != 1 or isinstance(payload.get("version"), bool):
        raise TrustedDocumentsError(
            f"{where}: unsupported {APOLLO_MANIFEST_FORMAT} version "
            f"{payload.get('version')!r}; expected 1"
        )
    operations = payload.get("operations")
    if not isinstance(operations, list):
        raise TrustedDocumentsError(f'{where}: "operations" must be a list')
    entries: list[tuple[str, str, object]] = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise TrustedDocumentsError(f"{where}, operations[{index}]: must be a JSON object")
        name = operation.get("name")
        label = f"operations[{index}]" + (f" ({name})" if isinstance(name, str) and name else "")
        sha256_hash = operation.get("id")
        if not isinstance(sha256_hash, str):
            raise TrustedDocumentsError(f'{where}, {label}: "id" must be a string')
        entries.append((label, sha256_hash, operation.get("body")))
    return entries


def document_errors(schema: GraphQLSchema, document: str) -> list[str]:
    """Why `document` would not pass parsing and validation against `schema`; empty if it
    would."""
    try:
        ast = parse(document)
    except GraphQLError as error:
        return [error.message]
    return [error.message for error in validate(schema, ast)]


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of duplicate keys silently; a manifest should say what it means.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result
