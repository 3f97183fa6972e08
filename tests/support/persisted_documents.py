"""What the persisted-query tests send: documents, their hashes, the extension, manifests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, TypeVar

from gateway.persisted import sha256_hex

T = TypeVar("T")

TYPENAME = "{ __typename }"
TYPENAME_HASH = "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
INTERVIEWS = "query Ids { interviews(first: 2) { nodes { id } } }"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def persisted(sha256_hash: str, version: object = 1, **extra: object) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hash, **extra}}


def apollo_manifest(*operations: dict[str, Any]) -> str:
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": list(operations)}
    )


def operation(body: str, name: str = "Ids", id_: str | None = None) -> dict[str, Any]:
    return {"id": id_ or sha256_hex(body), "name": name, "type": "query", "body": body}
