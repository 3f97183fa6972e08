"""The persisted-query protocol on the wire: the document hash, as Apollo's
`extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex digits>"}` (the hash may carry
a `sha256:` prefix, as GraphQL Code Generator's client preset writes it) or as the
GraphQL-over-HTTP `documentId: "sha256:<64 hex digits>"` (README "Persisted queries")."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from gateway.errors import InvalidPersistedQuery

__all__ = [
    "APQ_VERSION",
    "DOCUMENT_ID_PREFIX",
    "SHA256_HEX",
    "check_hash",
    "document_id_hash",
    "requested_hash",
    "sha256_hex",
    "with_document_id",
]

APQ_VERSION = 1
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
"""A SHA-256 as clients send it: 64 lowercase hexadecimal digits."""
DOCUMENT_ID_PREFIX = "sha256:"
"""The prefix of a document id that is a SHA-256 (GraphQL-over-HTTP persisted documents)."""


def sha256_hex(document: str) -> str:
    """The hash clients send for `document`: SHA-256 of its UTF-8 text, lowercase hex."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash in `extensions.persistedQuery`, lowercased and without a `sha256:` prefix; None
    when the extension is absent.

    Raises `InvalidPersistedQuery` for an extension that is not `{"version": 1,
    "sha256Hash": "<64 hex digits, optionally after sha256:>"}` (other keys, such as urql's
    `miss`, are ignored).
    """
    if not extensions or extensions.get("persistedQuery") is None:
        return None
    extension = extensions["persistedQuery"]
    if not isinstance(extension, Mapping):
        raise InvalidPersistedQuery('"extensions.persistedQuery" must be a JSON object.')
    version = extension.get("version")
    if isinstance(version, bool) or version != APQ_VERSION:
        # Apollo Server's wording; version 1 is the only one there is.
        raise InvalidPersistedQuery(
            f"Unsupported persisted query version {version!r}; this gateway supports version "
            f"{APQ_VERSION}."
        )
    sha256_hash = extension.get("sha256Hash")
    if isinstance(sha256_hash, str):
        sha256_hash = _without_prefix(sha256_hash.lower())
    if not isinstance(sha256_hash, str) or not SHA256_HEX.fullmatch(sha256_hash):
        raise InvalidPersistedQuery(
            '"extensions.persistedQuery.sha256Hash" must be the SHA-256 of the query as 64 '
            'hexadecimal digits (optionally after "sha256:").'
        )
    return sha256_hash


def document_id_hash(document_id: object) -> str:
    """The SHA-256 (lowercase hex) a GraphQL-over-HTTP `documentId` names: `"sha256:<64 hex
    digits>"`, the only kind of document id this gateway knows. Raises `InvalidPersistedQuery`
    naming `documentId` for anything else."""
    if isinstance(document_id, str):
        lowered = document_id.lower()
        if lowered.startswith(DOCUMENT_ID_PREFIX):
            sha256_hash = lowered.removeprefix(DOCUMENT_ID_PREFIX)
            if SHA256_HEX.fullmatch(sha256_hash):
                return sha256_hash
    raise InvalidPersistedQuery(
        '"documentId" must be "sha256:" followed by the SHA-256 of the document as 64 '
        "hexadecimal digits."
    )


def with_document_id(
    extensions: Mapping[str, Any] | None, sha256_hash: str | None, query: str | None
) -> dict[str, Any] | None:
    """`extensions` with the `documentId`'s hash (from `document_id_hash`) as Apollo's
    `persistedQuery`, so that every policy (and APQ's registration) reads one form. Raises
    `InvalidPersistedQuery` when the request's `query` or its own `persistedQuery` hash is
    another document's."""
    if sha256_hash is None:
        return dict(extensions) if extensions is not None else None
    if query is not None and sha256_hex(query) != sha256_hash:
        raise InvalidPersistedQuery('"documentId" is not the SHA-256 of the request\'s "query".')
    apollo = requested_hash(extensions)
    if apollo is not None and apollo != sha256_hash:
        raise InvalidPersistedQuery(
            '"documentId" and "extensions.persistedQuery.sha256Hash" name different documents.'
        )
    persisted = {"version": APQ_VERSION, "sha256Hash": sha256_hash}
    return {**(extensions or {}), "persistedQuery": persisted}


def _without_prefix(sha256_hash: str) -> str:
    return sha256_hash.removeprefix(DOCUMENT_ID_PREFIX)


def check_hash(sha256_hash: str, query: str) -> None:
    """Raise `InvalidPersistedQuery` unless `sha256_hash` is `query`'s hash."""
    if sha256_hex(query) != sha256_hash:
        raise InvalidPersistedQuery("provided sha does not match query")
