"""Records shaped by the catalog: a model's payload in the spec's field order, and the inline copy
of a record another record embeds, cut from the top-level record so the two always agree.

A payload holds every field of its model except the ``inline_only`` ones (those exist only where
another record inlines it); optional fields may be left out on purpose (``ABSENT``), as Kombo
does. Inline copies are :func:`project`-ed from the top-level payload onto the inline shape, and
the inline-only fields (a job stage's ``index``, a hiring team member's roles) added by the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.kombo.catalog import CATALOG, ListShape, ObjectShape, Shape

__all__ = ["ABSENT", "Draft", "assemble", "inline_shape", "project"]

ABSENT: Any = object()
"""A value that leaves an optional field out of the payload."""


def assemble(model: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The payload of one ``model`` record, in the spec's field order.

    ``values`` must name every field but the inline-only ones (``ABSENT`` leaves an optional one
    out); a missing, unknown or wrongly absent field is a bug in the generator.
    """
    shape = CATALOG[model].shape
    own = [f for f in shape.fields if not f.inline_only]
    names = {f.name for f in own}
    if unknown := values.keys() - names:
        raise ValueError(f"{model}: unknown fields {sorted(unknown)}")
    if missing := names - values.keys():
        raise ValueError(f"{model}: missing fields {sorted(missing)}")
    payload = {}
    for f in own:
        value = values[f.name]
        if value is ABSENT:
            if f.required:
                raise ValueError(f"{model}.{f.name} is required")
            continue
        payload[f.name] = value
    return payload


@dataclass
class Draft:
    """One record being built: its payload and its hidden nested-change events.

    ``events`` maps a path of the model's ``updated_after`` table (``"hiring_team"``) to the last
    instant an entry was added to or removed from it (``...Z``), when that is later than the
    record's ``changed_at`` (:mod:`gateway.sandbox.changes`)."""

    payload: dict[str, Any]
    events: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def deleted(self) -> bool:
        return self.payload["remote_deleted_at"] is not None


def _object(shape: Shape) -> ObjectShape | None:
    if isinstance(shape, ListShape):
        shape = shape.item
    return shape if isinstance(shape, ObjectShape) else None


def inline_shape(model: str, path: str) -> ObjectShape:
    """The shape of the records ``model`` inlines under ``path`` (``"application.candidate"``)."""
    shape: ObjectShape = CATALOG[model].shape
    for name in path.split("."):
        inner = _object(shape.field(name).shape)
        if inner is None:
            raise KeyError(f"{model}.{path} is no object")
        shape = inner
    return shape


def project(record: Mapping[str, Any], shape: ObjectShape) -> dict[str, Any]:
    """The fields of ``record`` that ``shape`` has, in ``shape``'s order (deep copies); records
    inlined in it are projected in turn; inline-only fields and fields ``record`` lacks are left
    out."""
    out: dict[str, Any] = {}
    for f in shape.fields:
        if f.inline_only or f.name not in record:
            continue
        value, inner = record[f.name], _object(f.shape)
        if inner is None or inner.model is None or value is None:
            out[f.name] = copy.deepcopy(value)
        elif isinstance(value, list):
            out[f.name] = [project(v, inner) for v in value]
        else:
            out[f.name] = project(value, inner)
    return out
