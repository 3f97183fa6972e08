"""The ten models' data: shaped like the catalog, consistent across models, with deleted records,
shared ids and the models some integrations lack. Checked against the catalog and the records
themselves, not the sandbox's generation code."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.kombo.catalog import CATALOG, ListShape, Model, ObjectShape
from gateway.sandbox import (
    ALL_INTEGRATIONS,
    INTEGRATIONS,
    MODEL_NOT_AVAILABLE_INTEGRATION,
    MODELS_NOT_AVAILABLE,
    records_for,
    shared_ids_for,
)
from tests.sandbox.shape_check import shape_errors

ABSENT = object()


def available(integration: str) -> list[Model]:
    return [m for m in CATALOG if m.path not in MODELS_NOT_AVAILABLE.get(integration, ())]


PAIRS = [(i, m) for i in ALL_INTEGRATIONS for m in available(i)]
PAIR_IDS = [f"{i}-{m.name}" for i, m in PAIRS]


def payloads(integration: str, model: str) -> list[dict[str, Any]]:
    return [r.payload for r in records_for(integration, model)]


def by_id(integration: str, model: str) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in payloads(integration, model)}


def live(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in items if p["remote_deleted_at"] is None]


def test_models_not_available_are_a_constant_with_lever_and_workday() -> None:
    assert MODELS_NOT_AVAILABLE[MODEL_NOT_AVAILABLE_INTEGRATION] == {"/ats/interviews"}
    assert MODELS_NOT_AVAILABLE["workday:initech"] == {"/ats/offers", "/ats/roles"}
    paths = {m.path for m in CATALOG}
    assert all(lacking <= paths for lacking in MODELS_NOT_AVAILABLE.values())
    assert (*INTEGRATIONS, MODEL_NOT_AVAILABLE_INTEGRATION) == ALL_INTEGRATIONS


@pytest.mark.parametrize(("integration", "model"), PAIRS, ids=PAIR_IDS)
def test_every_record_has_its_models_shape(integration: str, model: Model) -> None:
    records = payloads(integration, model.name)
    assert records
    for payload in records:
        assert shape_errors(model.shape, payload, model.name, top_level=True) == []


@pytest.mark.parametrize(("integration", "model"), PAIRS, ids=PAIR_IDS)
def test_every_model_has_deleted_and_live_records_and_unique_ids(
    integration: str, model: Model
) -> None:
    records = payloads(integration, model.name)
    deleted = [p for p in records if p["remote_deleted_at"] is not None]
    assert deleted and len(deleted) < len(records)
    assert all(p["changed_at"] >= p["remote_deleted_at"] for p in deleted)
    assert len({p["id"] for p in records}) == len(records)


@pytest.mark.parametrize("integration", ALL_INTEGRATIONS)
@pytest.mark.parametrize("model", [CATALOG["Job"], CATALOG["Candidate"]], ids=["Job", "Candidate"])
def test_optional_fields_are_absent_somewhere_where_kombo_omits_them(
    integration: str, model: Model
) -> None:
    """Every optional field of the big models is left out at least once, as the spec allows."""
    optional = [f.name for f in model.shape.fields if not f.required and not f.inline_only]
    records = payloads(integration, model.name)
    for name in optional:
        assert any(name not in p for p in records), name
        assert any(name in p for p in records), name


def test_jobs_carry_an_unknown_value_in_an_open_string_enum_field() -> None:
    field = CATALOG["Job"].shape.field("employment_type")
    values = {p.get("employment_type") for p in payloads(INTEGRATIONS[0], "Job")}
    assert values - set(field.known_values) - {None}
    assert set(field.known_values) & values


def test_records_are_deterministic_and_lists_are_fresh() -> None:
    first, second = records_for(INTEGRATIONS[0], "Job"), records_for(INTEGRATIONS[0], "Job")
    assert first == second and first is not second


@pytest.mark.parametrize(
    ("integration", "model"),
    [(i, CATALOG.by_path(p).name) for i, ps in MODELS_NOT_AVAILABLE.items() for p in sorted(ps)]
    + [("nope:unknown", "Job")],
)
def test_a_lacking_model_or_unknown_integration_has_no_records(
    integration: str, model: str
) -> None:
    with pytest.raises(KeyError):
        records_for(integration, model)


def test_no_record_inlines_a_model_its_integration_lacks() -> None:
    for app in payloads(MODEL_NOT_AVAILABLE_INTEGRATION, "Application"):
        assert app["interviews"] == []
    workday = "workday:initech"
    assert all(a["offers"] == [] for a in payloads(workday, "Application"))
    assert all(u["system_roles"] == [] for u in payloads(workday, "User"))
    for job in payloads(workday, "Job"):
        assert all(member["job_roles"] == [] for member in job["hiring_team"])


# -- inline records agree with the top-level ones -------------------------------------------


def inline_records(
    shape: ObjectShape, payload: dict[str, Any], where: str
) -> Iterator[tuple[str, str, dict[str, Any], ObjectShape, str]]:
    """(model, id, inline object, its shape, where) for every inline record in ``payload``."""
    for f in shape.fields:
        value = payload.get(f.name)
        inner = f.shape.item if isinstance(f.shape, ListShape) else f.shape
        if value is None or not isinstance(inner, ObjectShape) or inner.model is None:
            continue
        for n, item in enumerate(value if isinstance(value, list) else [value]):
            here = f"{where}.{f.name}[{n}]"
            record_id = item["id"] if inner.id_from is None else payload[inner.id_from]
            yield inner.model, record_id, item, inner, here
            yield from inline_records(inner, item, here)


@pytest.mark.parametrize(("integration", "model"), PAIRS, ids=PAIR_IDS)
def test_inline_records_equal_the_top_level_record_of_the_same_id(
    integration: str, model: Model
) -> None:
    tops = {m.name: by_id(integration, m.name) for m in available(integration)}
    checked = 0
    for payload in payloads(integration, model.name):
        for other, record_id, item, shape, where in inline_records(
            model.shape, payload, model.name
        ):
            top = tops[other].get(record_id)
            assert top is not None, f"{where}: no {other} {record_id}"
            full = CATALOG[other].shape
            for f in shape.fields:
                inner = f.shape.item if isinstance(f.shape, ListShape) else f.shape
                if isinstance(inner, ObjectShape) and inner.model is not None:
                    continue  # checked as an inline record of its own
                if full.field(f.name).inline_only:
                    continue
                assert item.get(f.name, ABSENT) == top.get(f.name, ABSENT), f"{where}.{f.name}"
                checked += 1
    if model.name in ("Interview", "Application", "Candidate", "Offer", "Job"):
        assert checked


@pytest.mark.parametrize("integration", ALL_INTEGRATIONS)
def test_id_fields_agree_with_the_records_inlined_beside_them(integration: str) -> None:
    for app in payloads(integration, "Application"):
        assert app["job_id"] == (app["job"] or {}).get("id")
        assert app["candidate_id"] == (app["candidate"] or {}).get("id")
        assert app["current_stage_id"] == (app["current_stage"] or {}).get("id")
    jobs = by_id(integration, "Job")
    for app in payloads(integration, "Application"):
        if app["current_stage"] is not None and app["job"] is not None:
            stages = [s["id"] for s in jobs[app["job_id"]]["stages"]]
            assert stages.index(app["current_stage_id"]) == app["current_stage"]["index"]
    users = by_id(integration, "User")
    for job in payloads(integration, "Job"):
        assert job["contact_id"] is None or job["contact_id"] in users
        assert [s["index"] for s in job["stages"]] == list(range(len(job["stages"])))


@pytest.mark.parametrize("integration", ALL_INTEGRATIONS)
def test_lists_of_related_records_hold_exactly_the_live_related_records(integration: str) -> None:
    has = {m.name for m in available(integration)}
    apps = payloads(integration, "Application")
    for candidate in payloads(integration, "Candidate"):
        mine = [a["id"] for a in live(apps) if a["candidate_id"] == candidate["id"]]
        assert sorted(a["id"] for a in candidate["applications"]) == sorted(mine)
    interviews = live(payloads(integration, "Interview")) if "Interview" in has else []
    offers = live(payloads(integration, "Offer")) if "Offer" in has else []
    for app in apps:
        mine = [i["id"] for i in interviews if (i["application"] or {}).get("id") == app["id"]]
        assert sorted(i["id"] for i in app["interviews"]) == sorted(mine)
        assert sorted(o["id"] for o in app["offers"]) == sorted(
            o["id"] for o in offers if o["application_id"] == app["id"]
        )
    tags = by_id(integration, "Tag")
    for candidate in payloads(integration, "Candidate"):
        assert all(tags[t["id"]]["remote_deleted_at"] is None for t in candidate["tags"])
    roles = {r["remote_id"]: r for r in payloads(integration, "Role")} if "Role" in has else {}
    for user in payloads(integration, "User"):
        for role in user["system_roles"]:
            assert roles[role["remote_id"]]["scope"] == role["scope"] == "SYSTEM"


def test_relations_are_populated() -> None:
    integration = INTEGRATIONS[0]
    apps = payloads(integration, "Application")
    assert sum(1 for a in apps if a["interviews"]) > 50
    assert sum(1 for a in apps if a["offers"]) > 10
    assert sum(1 for a in apps if not a["interviews"]) >= 3  # applications without interviews
    candidates = payloads(integration, "Candidate")
    assert sum(1 for c in candidates if len(c["applications"]) > 1) >= 3
    assert sum(1 for c in candidates if c["tags"]) > 10
    jobs = payloads(integration, "Job")
    assert sum(1 for j in jobs if j["hiring_team"]) > 10
    assert any(j["screening_questions"] for j in jobs) and any(j["job_postings"] for j in jobs)
    assert any(u["system_roles"] for u in payloads(integration, "User"))
    reasons = {r["name"] for r in payloads(integration, "RejectionReason")}
    assert {a["rejection_reason_name"] for a in apps} - {None} <= reasons


# -- shared ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("integration", ALL_INTEGRATIONS)
def test_shared_ids_are_the_ids_several_models_hold(integration: str) -> None:
    holders: dict[str, set[str]] = defaultdict(set)
    for model in available(integration):
        for payload in payloads(integration, model.name):
            holders[payload["id"]].add(model.name)
    expected = {i: frozenset(m) for i, m in holders.items() if len(m) > 1}
    assert shared_ids_for(integration) == expected
    assert len(expected) >= 6
    pairs = set(expected.values())
    assert frozenset({"Candidate", "User"}) in pairs and frozenset({"Job", "User"}) in pairs
    if integration in INTEGRATIONS:
        assert frozenset({"Interview", "User", "Tag"}) in pairs


def test_a_cache_keyed_by_kombo_id_alone_would_mix_up_records() -> None:
    integration = INTEGRATIONS[0]
    for shared, models in shared_ids_for(integration).items():
        seen = [by_id(integration, m)[shared] for m in sorted(models)]
        assert all(a != b for a, b in itertools.pairwise(seen))


# -- updated_at follows the spec's nested-change tables ---------------------------------------


def floor(integration: str, model: str, payload: dict[str, Any]) -> str:
    """The latest ``changed_at`` of the record and the linked records the spec's table counts
    (hand-written from the spec's tables)."""
    has = {m.name for m in available(integration)}
    changed = {
        m: {p["id"]: p["changed_at"] for p in payloads(integration, m)}
        for m in ("Application", "Candidate", "ApplicationStage", "Interview", "Offer")
        if m in has
    }
    instants = [payload["changed_at"]]

    def add(m: str, record_id: str | None) -> None:
        if record_id is not None and record_id in changed.get(m, {}):
            instants.append(changed[m][record_id])

    if model in ("Interview", "Offer"):
        add(
            "Application",
            (payload.get("application") or {}).get("id", payload.get("application_id")),
        )
    if model == "Application":
        add("Candidate", payload["candidate_id"])
        add("ApplicationStage", payload["current_stage_id"])
        for i in payload["interviews"]:
            add("Interview", i["id"])
        for o in payload["offers"]:
            add("Offer", o["id"])
    if model == "Candidate":
        for a in payload["applications"]:
            add("Application", a["id"])
    if model == "User" and "Role" in has:
        roles = {r["remote_id"]: r["changed_at"] for r in payloads(integration, "Role")}
        instants += [roles[r["remote_id"]] for r in payload["system_roles"]]
    return max(instants)


@pytest.mark.parametrize(("integration", "model"), PAIRS, ids=PAIR_IDS)
def test_updated_at_counts_the_linked_changes_of_the_spec_table(
    integration: str, model: Model
) -> None:
    records = records_for(integration, model.name)
    for record in records:
        assert record.updated_at >= floor(integration, model.name, record.payload)
        if not model.nested_changes:  # "only changes to the returned record itself"
            assert record.updated_at == record.payload["changed_at"]
    lacks_roles = "/ats/roles" in MODELS_NOT_AVAILABLE.get(integration, ())
    if model.name in ("Interview", "Application", "Candidate", "Job", "User") and not (
        model.name == "User" and lacks_roles  # no roles: no system role assignments
    ):
        assert any(r.updated_at > r.payload["changed_at"] for r in records)


def test_a_tag_change_alone_does_not_update_its_candidates() -> None:
    """Candidates' ``tags`` count when added or removed, not when a tag itself changes."""
    later = []
    for integration in ALL_INTEGRATIONS:
        tags = by_id(integration, "Tag")
        for record in records_for(integration, "Candidate"):
            later += [
                t["id"]
                for t in record.payload["tags"]
                if tags[t["id"]]["changed_at"] > record.updated_at
            ]
    assert later
