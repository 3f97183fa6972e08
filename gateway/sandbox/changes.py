"""Each record's hidden ``updated_at``: what ``updated_after`` compares, per the spec's table.

For every endpoint the spec has a table of nested data whose changes count
(:attr:`gateway.kombo.catalog.Model.nested_changes`). A record's ``updated_at`` is the latest of:

- its own ``changed_at``;
- for each row whose **Added/Removed** is ✓: the last time an entry was added to or removed from
  that list (the record's hidden events, :class:`~gateway.sandbox.shaping.Draft`);
- for each row whose **Linked Record** is ✓: the ``changed_at`` of every record the path links
  (an interview's ``application``, a candidate's ``applications``, a user's system roles…),
  looked up among the top-level records of that model; links to records the sandbox does not
  hold (deleted from lists, outside the synced scope) add nothing. ``job_postings`` are no
  model's records: their changes are events too.

Rows with ✗ in both columns (``application → job``) add nothing, and neither do nested paths
(``a → b``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from gateway.kombo.catalog import CATALOG, ListShape, ObjectShape
from gateway.sandbox.shaping import Draft

__all__ = ["ChangedAt", "linked_records", "listed_fields", "updated_at"]

_FIELD_OF_PATH = {"interviewers": "users", "system_role_assignment": "system_roles"}
"""Table paths named differently from the field holding them."""

_BY_REMOTE_ID = {"system_roles": "Role"}
"""Linked entries that carry no Kombo id: the model whose record has the same ``remote_id``."""

ChangedAt = Mapping[tuple[str, str, str], str]
"""``(model, "id" | "remote_id", value)`` → that top-level record's ``changed_at``."""


def _linked(model: str, path: str, payload: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    name = _FIELD_OF_PATH.get(path, path)
    shape = CATALOG[model].shape
    if name not in shape.field_names:
        return
    field_shape = shape.field(name).shape
    inner = field_shape.item if isinstance(field_shape, ListShape) else field_shape
    if not isinstance(inner, ObjectShape):
        return
    values = payload.get(name)
    items = values if isinstance(values, list) else [values]
    for item in items:
        if item is None:
            continue
        if inner.model is not None:
            key = item.get("id") if inner.id_from is None else payload.get(inner.id_from)
            if key is not None:
                yield inner.model, "id", key
        elif name in _BY_REMOTE_ID and item.get("remote_id") is not None:
            yield _BY_REMOTE_ID[name], "remote_id", item["remote_id"]


def updated_at(model: str, draft: Draft, changed: ChangedAt) -> str:
    """The latest instant (``...Z``) the record or its nested data changed, per the table."""
    latest = draft.payload["changed_at"]
    for row in CATALOG[model].nested_changes:
        if row.added_removed and row.path in draft.events:
            latest = max(latest, draft.events[row.path])
        if row.linked_record:
            for key in _linked(model, row.path, draft.payload):
                if key in changed:
                    latest = max(latest, changed[key])
    return latest


def linked_records(model: str, payload: Mapping[str, Any]) -> set[tuple[str, str, str]]:
    """The records whose own changes count for this one, per the table's **Linked Record**
    rows: ``(model, "id" | "remote_id", value)`` keys, as in :data:`ChangedAt`."""
    return {
        key
        for row in CATALOG[model].nested_changes
        if row.linked_record
        for key in _linked(model, row.path, payload)
    }


def listed_fields(model: str) -> frozenset[str]:
    """The fields of ``model`` whose entries being added or removed count (**Added/Removed**)."""
    return frozenset(
        _FIELD_OF_PATH.get(row.path, row.path)
        for row in CATALOG[model].nested_changes
        if row.added_removed
    )
