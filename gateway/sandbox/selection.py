"""The one filter engine of every sandbox endpoint: records prepared once per integration and
model, and the filters that select them.

Filters combine with AND across parameters and OR within one list, as the spec says. What each
parameter matches (``null`` never matches a filter; list values compare verbatim, case-sensitive,
unless said otherwise):

- ``ids``: the record's ``id``. ``remote_ids``: its ``remote_id``.
- ``job_ids`` / ``current_stage_ids`` (ids of another model): the ids of that model's records the
  record links, anywhere in it: an interview's ``application.job.id``, an application's
  ``job_id`` (and its inline ``job``), a candidate's ``applications[].job.id`` ("candidates that
  have applied to any of the jobs": the candidate's live applications), an application's
  ``current_stage_id``.
- ``job_remote_ids``: the ``remote_id`` of the job the application is for.
- ``outcomes`` / ``statuses`` / ``employment_types`` / ``visibilities`` / ``scopes``: the value of
  the field named in :data:`gateway.kombo.catalog.rules.ENUM_PARAMS` (a value outside the spec's
  list, possible in open-string fields, matches none). The deprecated ``outcome`` / ``status``:
  the same, with one value.
- ``job_codes``: the job's ``job_code``.
- ``emails``: the user's ``email``, case-insensitively.
- ``email``: any ``email_addresses[].email_address`` of the candidate, case-insensitively.
- ``first_name`` / ``last_name``: the candidate's name, whole, case-insensitively.
- ``post_url``: the job's ``post_url``, exactly.
- ``name_contains``: a case-insensitive substring of the job's ``name``.
- ``remote_created_after``: "created on or after a certain day": the UTC day of
  ``remote_created_at`` is on or after the UTC day of the given instant.
- ``updated_after``: the record's hidden ``updated_at`` (itself or its nested data, per the
  endpoint's table: :mod:`gateway.sandbox.changes`) is **strictly after** the instant (``>``).
- Deleted records (``remote_deleted_at`` set) are hidden unless ``include_deleted=true``.
- A filter the integration does not support (:data:`~gateway.sandbox.data.UNSUPPORTED_FILTERS`)
  empties the result, unless ``ignore_unsupported_filters=true``, which ignores it.

Results keep the upstream order of :func:`~gateway.sandbox.data.records_for`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.kombo.catalog import CATALOG, ListShape, ObjectShape, rules
from gateway.sandbox.data import records_for
from gateway.sandbox.params import Query

__all__ = ["Entry", "entries_for", "entry_of", "linked", "matches", "select"]

Payload = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Entry:
    """One record, serialized once, with what the filters look at."""

    json: bytes
    payload: Payload
    deleted: bool
    updated_at: datetime


def entry_of(payload: Payload, updated_at: datetime) -> Entry:
    """One record's entry: ``payload`` serialized, with its hidden ``updated_at``."""
    return Entry(
        json=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
        payload=payload,
        deleted=payload["remote_deleted_at"] is not None,
        updated_at=updated_at,
    )


@functools.cache
def entries_for(integration_id: str, model: str) -> tuple[Entry, ...]:
    """The records of ``model`` in ``integration_id``, in upstream order, ready to filter and
    serve (``KeyError`` when the integration lacks the model). Built once per process; entries
    are shared and must not be changed (:mod:`gateway.sandbox.edits` changes copies)."""
    return tuple(
        entry_of(r.payload, datetime.fromisoformat(r.updated_at))
        for r in records_for(integration_id, model)
    )


def linked(shape: ObjectShape, payload: Payload, model: str, key: str = "id") -> Iterator[Any]:
    """The ``key`` of every ``model`` record ``payload`` (of ``shape``) links: by an id field
    (``job_id``) or an inline record (``application.job``), at any depth."""
    for f in shape.fields:
        if f.name not in payload or payload[f.name] is None:
            continue
        value = payload[f.name]
        if key == "id" and rules.ID_REFERENCES.get(f.name) == model:
            yield value
        inner = f.shape.item if isinstance(f.shape, ListShape) else f.shape
        if not isinstance(inner, ObjectShape) or inner.model is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            if inner.model == model and key in item:
                yield item[key]
            yield from linked(inner, item, model, key)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _in(field: str) -> Callable[[str, Payload, Any], bool]:
    return lambda model, p, values: p.get(field) in values


def _in_folded(field: str) -> Callable[[str, Payload, Any], bool]:
    return lambda model, p, values: _fold(p.get(field)) in {v.casefold() for v in values}


def _linked_to(target: str, key: str) -> Callable[[str, Payload, Any], bool]:
    return lambda model, p, values: any(
        v in values for v in linked(CATALOG[model].shape, p, target, key)
    )


def _email(model: str, p: Payload, value: str) -> bool:
    wanted = value.casefold()
    return any(_fold(e.get("email_address")) == wanted for e in p.get("email_addresses") or [])


def _same_name(field: str) -> Callable[[str, Payload, Any], bool]:
    return lambda model, p, value: _fold(p.get(field)) == value.casefold()


def _created_after(model: str, p: Payload, value: datetime) -> bool:
    created = p.get("remote_created_at")
    return created is not None and datetime.fromisoformat(created).date() >= value.date()


_MATCHERS: dict[str, Callable[[str, Payload, Any], bool]] = {
    "ids": _in("id"),
    "remote_ids": _in("remote_id"),
    "job_remote_ids": _linked_to("Job", "remote_id"),
    "job_codes": _in("job_code"),
    "emails": _in_folded("email"),
    "email": _email,
    "first_name": _same_name("first_name"),
    "last_name": _same_name("last_name"),
    "post_url": lambda model, p, value: p.get("post_url") == value,
    "name_contains": lambda model, p, value: value.casefold() in (_fold(p.get("name")) or ""),
    "remote_created_after": _created_after,
    **{name: _in(field) for name, field in rules.ENUM_PARAMS.items()},
    **{name: _linked_to(target, "id") for name, target in rules.ID_PARAMS.items() if target},
}
"""What each filter parameter matches (see the module's docstring)."""


def matches(model: str, name: str, value: Any, payload: Payload) -> bool:
    """Whether the filter ``name=value`` keeps ``payload`` (a ``model`` record)."""
    return _MATCHERS[name](model, payload, value)


def select(
    model: str, entries: Sequence[Entry], query: Query, unsupported: frozenset[str]
) -> list[Entry]:
    """The entries ``query``'s filters keep, in order; ``unsupported`` names the filters the
    integration does not support."""
    filters = dict(query.filters)
    for name in unsupported & filters.keys():
        if not query.ignore_unsupported_filters:
            return []
        del filters[name]
    after = query.updated_after
    return [
        e
        for e in entries
        if (query.include_deleted or not e.deleted)
        and (after is None or e.updated_at > after)
        and all(matches(model, name, value, e.payload) for name, value in filters.items())
    ]
