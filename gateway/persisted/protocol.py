"""The persisted-query protocol on the wire: the document hash and the request's
`extensions.persistedQuery = {"version": 1, "sha256Hash": "<64 hex digits>"}` (README
"Persisted queries")."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from gateway.errors import InvalidPersistedQuery

__all__ = ["APQ_VERSION", "SHA256_HEX", "check_hash", "requested_hash", "sha256_hex"]

APQ_VERSION = 1
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
"""A SHA-256 as clients send it: 64 lowercase hexadecimal digits."""


def sha256_hex(document: str) -> str:
    """The hash clients send for `document`: SHA-256 of its UTF-8 text, lowercase hex."""
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The hash in `extensions.persistedQuery`, lowercased; None when the extension is absent.

    Raises `InvalidPersistedQuery` for an extension that is not `{"version": 1,
    "sha256Hash": "<64 hex digits>"}` (other keys, such as urql's `miss`, are ignored).
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
    if not isinstance(sha256_hash, str) or not SHA256_HEX.fullmatch(sha256_hash.lower()):
        raise InvalidPersistedQuery(
            '"extensions.persistedQuery.sha256Hash" must be the SHA-256 of the query as 64 '
            "hexadecimal digits."
        )
    return sha256_hash.lower()


def check_hash(sha256_hash: str, query: str) -> None:
    """Raise `InvalidPersistedQuery` unless `sha256_hash` is `query`'s hash."""
    if sha256_hex(query) != sha256_hash:
        raise InvalidPersistedQuery("provided sha does not match query")
