"""The parameters of one GraphQL-over-HTTP request (README "Routes"), checked for type.

GET requests carry them as query parameters (`variables` and `extensions` as JSON strings),
POST requests as a JSON object; anything else is a :class:`Rejection`, answered 4xx by the
endpoint without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.errors import InvalidPersistedQuery
from gateway.persisted.protocol import document_id_hash

__all__ = ["GraphQLParams", "Rejection", "too_large"]


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The parameters of one GraphQL-over-HTTP request, checked for type.

    `has_query` is False for a persisted-query request that sent only the document's hash
    (`extensions.persistedQuery`, or `documentId`); `query` is then empty until the endpoint's
    `DocumentPolicy` fills it in. `document_id` is the SHA-256 a `documentId` names (lowercase
    hex, without its `sha256:` prefix).
    """

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None
    has_query: bool = True
    document_id: str | None = None

    @classmethod
    def from_json(cls, payload: object) -> GraphQLParams:
        """From a decoded POST body; raises `Rejection` (400) when it is not well formed."""
        if not isinstance(payload, dict):
            raise Rejection(400, "The request body must be a JSON object.")
        query = payload.get("query")
        extensions = _optional_map(payload.get("extensions"), "extensions")
        document_id = _document_id(payload.get("documentId"))
        if query is None and document_id is None and not _names_persisted_query(extensions):
            raise Rejection(400, 'The request has no "query".')
        if query is not None and not isinstance(query, str):
            raise Rejection(400, '"query" must be a string.')
        operation_name = payload.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise Rejection(400, '"operationName" must be a string.')
        return cls(
            query=query or "",
            variables=_optional_map(payload.get("variables"), "variables"),
            # The spec treats an empty operationName as an omitted one.
            operation_name=operation_name or None,
            extensions=extensions,
            has_query=query is not None,
            document_id=document_id,
        )

    @classmethod
    def from_query_string(cls, query_params: Mapping[str, str]) -> GraphQLParams:
        """From GET query parameters, where `variables` and `extensions` are JSON strings."""
        query = query_params.get("query")
        extensions = _optional_map(_json_parameter(query_params, "extensions"), "extensions")
        document_id = _document_id(query_params.get("documentId"))
        if query is None and document_id is None and not _names_persisted_query(extensions):
            raise Rejection(400, 'The request has no "query" parameter.')
        return cls(
            query=query or "",
            variables=_optional_map(_json_parameter(query_params, "variables"), "variables"),
            operation_name=query_params.get("operationName") or None,
            extensions=extensions,
            has_query=query is not None,
            document_id=document_id,
        )


class Rejection(Exception):
    """A request that is not a well-formed GraphQL-over-HTTP request; answered, not raised."""

    def __init__(
        self,
        status: int,
        message: str,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extensions = extensions
        self.headers = headers


def too_large(limit: int) -> Rejection:
    return Rejection(413, f"The request body exceeds {limit} bytes.")


def _optional_map(value: object, name: str) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Rejection(400, f'"{name}" must be a JSON object.')
    return value


def _names_persisted_query(extensions: Mapping[str, Any] | None) -> bool:
    # A request may omit its `query` when it names a persisted one by hash (APQ).
    return extensions is not None and extensions.get("persistedQuery") is not None


def _document_id(value: object) -> str | None:
    # GraphQL-over-HTTP persisted documents: `documentId` names the document by its hash.
    if value is None:
        return None
    try:
        return document_id_hash(value)
    except InvalidPersistedQuery as error:
        raise Rejection(400, error.message) from None


def _json_parameter(query_params: Mapping[str, str], name: str) -> object:
    raw = query_params.get(name)
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise Rejection(400, f'The "{name}" parameter is not valid JSON.') from None
