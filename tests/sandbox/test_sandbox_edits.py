"""Edits to the sandbox's records (:mod:`gateway.sandbox.edits`): each one makes a record change
now, and the data stays as faithful to the spec as the generated data: same shapes, inline
copies equal to the top-level records, lists of related records holding the live ones, and
``updated_after`` finding exactly what the spec's tables say it finds."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG, ListShape, ObjectShape
from gateway.sandbox import INTEGRATIONS, MODELS_NOT_AVAILABLE, records_for
from gateway.sandbox.edits import DELETABLE, EditRefused, Edits
from tests.sandbox.shape_check import shape_errors
from tests.sandbox.test_sandbox_models import ABSENT, inline_records

ACME = INTEGRATIONS[0]
KOMBO_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def payloads(edits: Edits, integration: str, model: str) -> list[dict[str, Any]]:
    return [dict(e.payload) for e in edits.entries(integration, model)]


def by_id(edits: Edits, integration: str, model: str) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in payloads(edits, integration, model)}


def updated_at(edits: Edits, integration: str, model: str, record_id: str) -> datetime:
    (entry,) = [e for e in edits.entries(integration, model) if e.payload["id"] == record_id]
    return entry.updated_at


def first_live(integration: str, model: str, *, with_: str) -> dict[str, Any]:
    """The first record of ``model`` not deleted whose ``with_`` field is set (not empty)."""
    return next(
        r.payload
        for r in records_for(integration, model)
        if r.payload["remote_deleted_at"] is None and r.payload[with_]
    )


def models_of(integration: str) -> list[str]:
    lacking = MODELS_NOT_AVAILABLE.get(integration, frozenset())
    return [m.name for m in CATALOG if m.path not in lacking]


def assert_consistent(edits: Edits, integration: str) -> None:
    """The checks of test_sandbox_models.py, on the edited records."""
    models = models_of(integration)
    tops = {m: by_id(edits, integration, m) for m in models}
    for model in models:
        for entry in edits.entries(integration, model):
            payload = dict(entry.payload)
            assert json.loads(entry.json) == payload
            assert entry.deleted == (payload["remote_deleted_at"] is not None)
            assert entry.updated_at >= datetime.fromisoformat(payload["changed_at"])
            assert shape_errors(CATALOG[model].shape, payload, model, top_level=True) == []
            for other, record_id, item, shape, where in inline_records(
                CATALOG[model].shape, payload, model
            ):
                top = tops[other][record_id]
                for f in shape.fields:
                    inner = f.shape.item if isinstance(f.shape, ListShape) else f.shape
                    if isinstance(inner, ObjectShape) and inner.model is not None:
                        continue
                    if CATALOG[other].shape.field(f.name).inline_only:
                        continue
                    assert item.get(f.name, ABSENT) == top.get(f.name, ABSENT), f"{where}.{f.name}"
    live = {m: [p for p in tops[m].values() if p["remote_deleted_at"] is None] for m in models}
    for candidate in tops["Candidate"].values():
        mine = [a["id"] for a in live["Application"] if a["candidate_id"] == candidate["id"]]
        assert sorted(a["id"] for a in candidate["applications"]) == sorted(mine)
    for app in tops["Application"].values():
        interviews = [
            i["id"]
            for i in live.get("Interview", [])
            if (i["application"] or {}).get("id") == app["id"]
        ]
        assert sorted(i["id"] for i in app["interviews"]) == sorted(interviews)
        offers = [o["id"] for o in live.get("Offer", []) if o["application_id"] == app["id"]]
        assert sorted(o["id"] for o in app["offers"]) == sorted(offers)
        assert app["current_stage_id"] == (app["current_stage"] or {}).get("id")
        if app["current_stage"] is not None and app["job"] is not None:
            stages = [s["id"] for s in tops["Job"][app["job_id"]]["stages"]]
            assert stages.index(app["current_stage_id"]) == app["current_stage"]["index"]


def test_edits_change_a_copy_never_the_process_wide_data() -> None:
    before = {m: json.dumps([r.payload for r in records_for(ACME, m)]) for m in models_of(ACME)}
    edits = Edits()
    for model in ("Interview", "Application", "Candidate", "Job"):
        edits.edit(ACME, model, rng=random.Random(3))
    edits.edit(ACME, "Interview", delete=True, rng=random.Random(4))
    after = {m: json.dumps([r.payload for r in records_for(ACME, m)]) for m in models_of(ACME)}
    assert after == before
    assert Edits().entries(ACME, "Interview") is not edits.entries(ACME, "Interview")


@pytest.mark.parametrize("integration", INTEGRATIONS)
def test_many_edits_of_every_model_keep_the_data_faithful(integration: str) -> None:
    edits, rng = Edits(), random.Random(13)
    for _ in range(4):
        for model in models_of(integration):
            edits.edit(integration, model, rng=rng)
            if model in DELETABLE:
                edits.edit(integration, model, delete=True, rng=rng)
    assert_consistent(edits, integration)


def test_an_edit_is_now_in_kombos_format_and_strictly_later_than_the_last() -> None:
    edits = Edits()
    started = datetime.now(UTC) - timedelta(milliseconds=1)
    made = [edits.edit(ACME, "Interview", rng=random.Random(n)) for n in range(20)]
    stamps = [e.changed_at for e in made]
    assert all(KOMBO_INSTANT.fullmatch(s) for s in stamps)
    assert stamps == sorted(set(stamps))  # 20 edits within a few ms: still increasing
    assert datetime.fromisoformat(stamps[0]) >= started
    record = by_id(edits, ACME, "Interview")[made[-1].id]
    assert record["changed_at"] == record["remote_updated_at"] == stamps[-1]
    assert updated_at(edits, ACME, "Interview", made[-1].id).isoformat().startswith(stamps[-1][:23])


def test_a_retitled_or_rescheduled_interview_counts_for_its_application_only() -> None:
    edits = Edits()
    interview = first_live(ACME, "Interview", with_="application")
    app_id = interview["application"]["id"]
    candidate_id = by_id(edits, ACME, "Application")[app_id]["candidate_id"]
    before = updated_at(edits, ACME, "Candidate", candidate_id)
    edit = edits.edit(ACME, "Interview", interview["id"])
    now = datetime.fromisoformat(edit.changed_at)

    changed = by_id(edits, ACME, "Interview")[interview["id"]]
    assert edit.what in ("retitled", "rescheduled")
    assert (changed["title"], changed["starting_at"]) != (
        interview["title"],
        interview["starting_at"],
    )
    # Application: interviews are a Linked Record row. Candidate → applications → interviews
    # is a nested path: it counts nothing.
    assert updated_at(edits, ACME, "Application", app_id) == now
    assert updated_at(edits, ACME, "Candidate", candidate_id) == before


def test_a_renamed_candidate_shows_in_every_inline_copy() -> None:
    edits = Edits()
    app = first_live(ACME, "Application", with_="interviews")
    candidate_id = app["candidate_id"]
    interview_id = app["interviews"][0]["id"]
    interview_before = updated_at(edits, ACME, "Interview", interview_id)
    edit = edits.edit(ACME, "Candidate", candidate_id)

    name = by_id(edits, ACME, "Candidate")[candidate_id]["first_name"]
    assert (
        edit.what == "renamed"
        and name != by_id(Edits(), ACME, "Candidate")[candidate_id]["first_name"]
    )
    assert by_id(edits, ACME, "Application")[app["id"]]["candidate"]["first_name"] == name
    interview = by_id(edits, ACME, "Interview")[interview_id]
    assert interview["application"]["candidate"]["first_name"] == name
    # Application → candidate is a Linked Record row; interview → application → candidate is
    # nested: the interview shows the new name without counting as updated.
    assert updated_at(edits, ACME, "Application", app["id"]) == datetime.fromisoformat(
        edit.changed_at
    )
    assert updated_at(edits, ACME, "Interview", interview_id) == interview_before


def test_a_moved_application_takes_the_next_stage_of_its_job() -> None:
    edits = Edits()
    app = first_live(ACME, "Application", with_="current_stage")
    stages = by_id(edits, ACME, "Job")[app["job_id"]]["stages"]
    edit = edits.edit(ACME, "Application", app["id"])
    moved = by_id(edits, ACME, "Application")[app["id"]]
    expected = stages[(app["current_stage"]["index"] + 1) % len(stages)]
    assert edit.what == "moved"
    assert moved["current_stage_id"] == expected["id"]
    assert moved["current_stage"]["index"] == expected["index"]
    assert_consistent(edits, ACME)


def test_a_deleted_interview_is_marked_and_leaves_its_applications_list() -> None:
    edits = Edits()
    app = first_live(ACME, "Application", with_="interviews")
    interview_id = app["interviews"][0]["id"]
    edit = edits.edit(ACME, "Interview", interview_id, delete=True)
    deleted = by_id(edits, ACME, "Interview")[interview_id]
    assert edit.deleted and edit.what == "deleted"
    assert deleted["remote_deleted_at"] == deleted["changed_at"] == edit.changed_at
    assert interview_id not in edits.live_ids(ACME, "Interview")
    holder = by_id(edits, ACME, "Application")[app["id"]]
    assert interview_id not in [i["id"] for i in holder["interviews"]]
    assert updated_at(edits, ACME, "Application", app["id"]) == datetime.fromisoformat(
        edit.changed_at
    )
    with pytest.raises(EditRefused, match="is deleted"):
        edits.edit(ACME, "Interview", interview_id)


@pytest.mark.parametrize(
    ("integration", "model", "record_id", "delete", "message"),
    [
        ("nowhere:none", "Interview", None, False, "no integration"),
        (ACME, "Interviews", None, False, "no model"),
        ("lever:no-interviews", "Interview", None, False, "has no Interview"),
        (ACME, "Interview", "no-such-id", False, "no Interview 'no-such-id'"),
        (ACME, "ApplicationStage", None, True, "deleting ApplicationStage records is not offered"),
    ],
)
def test_an_edit_the_sandbox_cannot_make_is_refused_with_a_reason(
    integration: str, model: str, record_id: str | None, delete: bool, message: str
) -> None:
    with pytest.raises(EditRefused, match=re.escape(message)):
        Edits().edit(integration, model, record_id, delete=delete)
