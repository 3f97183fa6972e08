"""Changes to the sandbox's records while it runs, as people using the ATS would make them: an
interview retitled or rescheduled, an application moved to another stage of its job, a candidate
renamed, any record updated or deleted. Live subscriptions (README "Live changes") find them the
way they find Kombo's: ``updated_after=<instant>&include_deleted=true``.

Each sandbox app holds its own :class:`Edits`: an integration's records are copied on its first
edit and changed in that copy, so the process-wide data (:mod:`gateway.sandbox.data`) stays the
deterministic dataset other apps and the tests compare with. An edit keeps the answers as
faithful to the spec as the generated data:

- the record's ``changed_at`` (and ``remote_updated_at``, the ATS's own) become now (the real
  clock, in Kombo's ``...sssZ`` format, strictly later than the previous edit's); a deletion
  sets ``remote_deleted_at`` too;
- every inline copy of the record, at any depth of any record, gets the changed fields, so
  inline and top-level records still agree field by field; lists of related records hold only
  live ones, so a deleted record leaves them;
- the hidden ``updated_at`` (what ``updated_after`` compares, :mod:`gateway.sandbox.changes`)
  becomes now for the record, for every record whose **Linked Record** row links it and for
  every record whose **Added/Removed** list it left; rows with neither (``application → job``)
  and nested paths count nothing, as in the spec's tables.

Deleting is offered for the models whose deletion leaves the data consistent
(:data:`DELETABLE`); stages, jobs, users, roles and rejection reasons are referenced by position
or by name elsewhere.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.kombo.catalog import CATALOG, ObjectShape
from gateway.sandbox.changes import linked_records, listed_fields
from gateway.sandbox.data import MODELS_NOT_AVAILABLE, has_integration
from gateway.sandbox.selection import Entry, entries_for, entry_of
from gateway.sandbox.shaping import inline_shape

__all__ = ["DELETABLE", "Edit", "EditRefused", "Edits", "kombo_instant"]

DELETABLE: frozenset[str] = frozenset({"Interview", "Application", "Candidate", "Offer", "Tag"})
"""Models whose records :meth:`Edits.edit` may delete."""

_EDITED = re.compile(r" \(edited \d{2}:\d{2}:\d{2}\)$")


class EditRefused(ValueError):
    """An edit the sandbox cannot make: unknown integration, model, record, or a deletion it
    does not offer. The message says which."""


@dataclass(frozen=True)
class Edit:
    """One edit made: which record, when, and what happened to it."""

    integration_id: str
    model: str
    """The catalog name (``"Interview"``)."""
    id: str
    changed_at: str
    """The record's new ``changed_at`` (``...sssZ``)."""
    deleted: bool
    what: str
    """``retitled``, ``rescheduled``, ``moved``, ``renamed``, ``updated`` or ``deleted``."""

    def as_json(self) -> dict[str, Any]:
        return {
            "integration_id": self.integration_id,
            "model": self.model,
            "id": self.id,
            "changed_at": self.changed_at,
            "deleted": self.deleted,
            "what": self.what,
        }


def kombo_instant(moment: datetime) -> str:
    """``moment`` (UTC) as Kombo writes instants: ``2024-02-13T15:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _cut(value: Any, shape: ObjectShape) -> Any:
    """``value`` (a record or a list of them) reduced to ``shape``'s fields, deep-copied;
    inline-only fields it has (a stage's ``index``) are kept."""
    if isinstance(value, list):
        return [_cut(v, shape) for v in value]
    if value is None:
        return None
    out = {}
    for f in shape.fields:
        if f.name in value:
            inner = _object(f.shape)
            if inner is not None and inner.model is not None:
                out[f.name] = _cut(value[f.name], inner)
            else:
                out[f.name] = copy.deepcopy(value[f.name])
    return out


def _object(shape: Any) -> ObjectShape | None:
    inner = getattr(shape, "item", shape)
    return inner if isinstance(inner, ObjectShape) else None


class _Integration:
    """One integration's records, copied from the process-wide data on its first edit."""

    def __init__(self, integration_id: str) -> None:
        lacking = MODELS_NOT_AVAILABLE.get(integration_id, frozenset())
        self.entries: dict[str, list[Entry]] = {}
        self.position: dict[tuple[str, str], int] = {}
        for model in CATALOG:
            if model.path in lacking:
                continue
            copied = []
            for n, entry in enumerate(entries_for(integration_id, model.name)):
                copied.append(entry_of(copy.deepcopy(dict(entry.payload)), entry.updated_at))
                self.position[(model.name, entry.payload["id"])] = n
            self.entries[model.name] = copied

    def payload(self, model: str, record_id: str) -> dict[str, Any] | None:
        n = self.position.get((model, record_id))
        if n is None:
            return None
        payload = self.entries[model][n].payload
        assert isinstance(payload, dict)
        return payload

    def store(self, model: str, payload: dict[str, Any], updated_at: datetime | None) -> None:
        """Serve ``payload`` again (it was changed in place); ``updated_at``: its new one."""
        n = self.position[(model, payload["id"])]
        old = self.entries[model][n]
        when = old.updated_at if updated_at is None else max(old.updated_at, updated_at)
        self.entries[model][n] = entry_of(payload, when)


class Edits:
    """The edits of one sandbox app: the changed copies of its integrations' records."""

    def __init__(self) -> None:
        self._integrations: dict[str, _Integration] = {}
        self._last = datetime.min.replace(tzinfo=UTC)

    def entries(self, integration_id: str, model: str) -> Sequence[Entry]:
        """What ``model``'s endpoint serves for ``integration_id``: the edited copy once the
        integration has been edited, else the process-wide entries."""
        edited = self._integrations.get(integration_id)
        if edited is None:
            return entries_for(integration_id, model)
        return edited.entries[model]

    def live_ids(self, integration_id: str, model: str) -> list[str]:
        """The ids of ``model``'s records not deleted, in upstream order."""
        return [e.payload["id"] for e in self.entries(integration_id, model) if not e.deleted]

    def _now(self) -> tuple[str, datetime]:
        now = datetime.now(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if now <= self._last:  # two edits in one millisecond: keep changed_at increasing
            now = self._last + timedelta(milliseconds=1)
        self._last = now
        return kombo_instant(now), now

    def edit(
        self,
        integration_id: str,
        model: str,
        record_id: str | None = None,
        *,
        delete: bool = False,
        rng: random.Random | None = None,
    ) -> Edit:
        """Change one ``model`` record of ``integration_id`` (``record_id``, or a live one
        picked with ``rng``): delete it, or make the change its model has. Raises
        :class:`EditRefused`."""
        rng = rng or random.Random()
        if not has_integration(integration_id):
            raise EditRefused(f"no integration {integration_id!r}")
        names = [m.name for m in CATALOG]
        if model not in names:
            raise EditRefused(f"no model {model!r}; models: {', '.join(names)}")
        if CATALOG[model].path in MODELS_NOT_AVAILABLE.get(integration_id, frozenset()):
            raise EditRefused(f"{integration_id} has no {model} records")
        if delete and model not in DELETABLE:
            raise EditRefused(f"deleting {model} records is not offered; only {sorted(DELETABLE)}")
        if record_id is None:
            live = self.live_ids(integration_id, model)
            if not live:
                raise EditRefused(f"{integration_id} has no live {model} records left")
            record_id = rng.choice(live)
        records = self._integrations.get(integration_id)
        if records is None:
            records = self._integrations[integration_id] = _Integration(integration_id)
        payload = records.payload(model, record_id)
        if payload is None:
            raise EditRefused(f"no {model} {record_id!r} in {integration_id}")
        if payload["remote_deleted_at"] is not None:
            raise EditRefused(f"{model} {record_id!r} is deleted")

        stamp, now = self._now()
        if delete:
            payload["remote_deleted_at"] = stamp
            fields, what = {"remote_deleted_at"}, "deleted"
        else:
            fields, what = _change(model, payload, records, rng, now)
        payload["changed_at"] = stamp
        fields.add("changed_at")
        if "remote_updated_at" in payload:
            payload["remote_updated_at"] = stamp
            fields.add("remote_updated_at")
        records.store(model, payload, now)
        _propagate(records, model, payload, fields, delete, now)
        return Edit(integration_id, model, record_id, stamp, delete, what)


def _change(
    model: str,
    payload: dict[str, Any],
    records: _Integration,
    rng: random.Random,
    now: datetime,
) -> tuple[set[str], str]:
    """Make ``model``'s change to ``payload`` in place; the fields changed and what it was."""
    if model == "Interview":
        if payload.get("starting_at") and rng.random() < 0.5:
            for name in ("starting_at", "ending_at"):
                if payload.get(name):
                    moved = datetime.fromisoformat(payload[name]) + timedelta(days=1)
                    payload[name] = kombo_instant(moved)
            return {"starting_at", "ending_at"}, "rescheduled"
        title = _EDITED.sub("", payload.get("title") or "Interview")
        payload["title"] = f"{title} (edited {now:%H:%M:%S})"
        return {"title"}, "retitled"
    if model == "Application":
        job = records.payload("Job", payload["job_id"]) if payload.get("job_id") else None
        stages = (job or {}).get("stages") or []
        ids = [s["id"] for s in stages]
        if len(ids) > 1 and payload.get("current_stage_id") in ids:
            stage = stages[(ids.index(payload["current_stage_id"]) + 1) % len(stages)]
            payload["current_stage_id"] = stage["id"]
            payload["current_stage"] = _cut(stage, inline_shape("Application", "current_stage"))
            return {"current_stage_id", "current_stage"}, "moved"
    if model == "Candidate":
        names = {e.payload.get("first_name") for e in records.entries["Candidate"]}
        others = sorted(str(n) for n in names - {payload.get("first_name"), None})
        if others:
            payload["first_name"] = rng.choice(sorted(others))
            return {"first_name"}, "renamed"
    return set(), "updated"


def _propagate(
    records: _Integration,
    model: str,
    source: Mapping[str, Any],
    fields: set[str],
    deleted: bool,
    now: datetime,
) -> None:
    """Bring every other record in line with ``source`` (its ``fields`` changed)."""
    keys = {(model, "id", source["id"])}
    if source.get("remote_id") is not None:
        keys.add((model, "remote_id", source["remote_id"]))
    for holder, entries in records.entries.items():
        shape = CATALOG[holder].shape
        listed = listed_fields(holder)
        for entry in list(entries):
            payload = entry.payload
            if holder == model and payload["id"] == source["id"]:
                continue
            assert isinstance(payload, dict)
            linked = not keys.isdisjoint(linked_records(holder, payload))
            synced, left = _sync(shape, payload, model, source, fields, deleted)
            counts = linked or bool(left & listed)
            if synced or counts:
                records.store(holder, payload, now if counts else None)


def _sync(
    shape: ObjectShape,
    payload: dict[str, Any],
    model: str,
    source: Mapping[str, Any],
    fields: set[str],
    deleted: bool,
) -> tuple[bool, set[str]]:
    """Update the inline copies of ``source`` (a ``model`` record) in ``payload``, at any depth;
    a deleted one leaves lists. Whether anything changed, and the lists of ``payload`` itself
    it left."""
    changed, left = False, set()
    for f in shape.fields:
        value = payload.get(f.name)
        inner = _object(f.shape)
        if value is None or inner is None or inner.model is None:
            continue
        items = value if isinstance(value, list) else [value]
        kept = []
        for item in items:
            item_id = item.get("id") if inner.id_from is None else payload.get(inner.id_from)
            if inner.model == model and item_id == source["id"]:
                if deleted and isinstance(value, list):
                    left.add(f.name)  # Kombo's lists of related records hold live ones
                    changed = True
                    continue
                changed |= _copy_fields(item, inner, source, fields)
            changed |= _sync(inner, item, model, source, fields, deleted)[0]
            kept.append(item)
        if isinstance(value, list) and len(kept) != len(value):
            payload[f.name] = kept
    return changed, left


def _copy_fields(
    item: dict[str, Any], shape: ObjectShape, source: Mapping[str, Any], fields: set[str]
) -> bool:
    """Copy ``fields`` of ``source`` that ``shape`` has into the inline ``item``."""
    changed = False
    for name in fields:
        if name not in shape.field_names:
            continue
        if name not in source:
            changed |= item.pop(name, None) is not None
            continue
        inner = _object(shape.field(name).shape)
        is_record = inner is not None and inner.model is not None
        value = _cut(source[name], inner) if is_record and inner else copy.deepcopy(source[name])
        if item.get(name) != value:
            item[name] = value
            changed = True
    return changed
