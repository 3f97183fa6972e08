"""What the graph must answer for any of the ten models, computed from the sandbox's own records and
the catalog (independently of the gateway): visible records, records by id, the GraphQL form of an
upstream value, and selections of a model's leaf fields."""

from __future__ import annotations

from typing import Any

from gateway.kombo.catalog import CATALOG, EnumShape, Field, ListShape, Model, Scalar, camel
from gateway.sandbox import MODELS_NOT_AVAILABLE, records_for
from tests.support.truth import answered_datetime

__all__ = [
    "available_models",
    "by_id",
    "graphql_value",
    "leaf_fields",
    "leaf_selection",
    "upstream_calls",
    "visible",
]


def available_models(integration: str) -> list[Model]:
    """The models ``integration`` serves (not those answering MODEL_NOT_AVAILABLE)."""
    lacking = MODELS_NOT_AVAILABLE.get(integration, frozenset())
    return [m for m in CATALOG if m.path not in lacking]


def visible(integration: str, model: str) -> list[dict[str, Any]]:
    """Non-deleted payloads of ``model`` in upstream order: what a list without
    ``includeDeleted`` shows."""
    return [
        r.payload for r in records_for(integration, model) if r.payload["remote_deleted_at"] is None
    ]


def by_id(integration: str, model: str) -> dict[str, dict[str, Any]]:
    """Every payload of ``model`` (deleted ones included) by Kombo id."""
    return {r.payload["id"]: r.payload for r in records_for(integration, model)}


def _is_leaf(shape: Any) -> bool:
    if isinstance(shape, ListShape):
        return _is_leaf(shape.item)
    return isinstance(shape, Scalar | EnumShape)


def leaf_fields(model: Model, *, inline_only: bool = False) -> list[Field]:
    """The model's fields holding scalars, enums or lists of them (``id`` excluded: in the graph
    it is the global id, ``komboId`` holds Kombo's). Fields only inline records carry are left
    out unless ``inline_only``."""
    return [
        f
        for f in model.shape.fields
        if f.name != "id" and _is_leaf(f.shape) and (inline_only or not f.inline_only)
    ]


def leaf_selection(model: Model) -> str:
    """``komboId`` and every leaf field of ``model``, camelCased."""
    return " ".join(["komboId", *(camel(f.name) for f in leaf_fields(model))])


def graphql_value(shape: Any, value: Any) -> Any:
    """An upstream leaf value as the graph must answer it (date-times in UTC with milliseconds,
    as CONTRACT 1.1 says; an enum value outside its enum is null)."""
    if value is None:
        return None
    if isinstance(shape, ListShape):
        return [graphql_value(shape.item, v) for v in value]
    if isinstance(shape, Scalar) and shape.kind == "DateTime":
        return answered_datetime(value)
    if isinstance(shape, EnumShape) and value not in shape.values:
        return None
    return value


def expected_leaves(model: Model, payload: dict[str, Any]) -> dict[str, Any]:
    """What :func:`leaf_selection` must answer for ``payload``."""
    out: dict[str, Any] = {"komboId": payload["id"]}
    for f in leaf_fields(model):
        out[camel(f.name)] = graphql_value(f.shape, payload.get(f.name))
    return out


def upstream_calls(requests: list[dict[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """The sandbox request log as (endpoint path without ``/v1``, query parameters)."""
    return [(r["path"].removeprefix("/v1"), r["params"]) for r in requests]
