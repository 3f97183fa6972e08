"""One integration's whole dataset: the ten models' records, consistent with each other.

The interviews generator (:mod:`gateway.sandbox.generation`) runs first, unchanged, so the
interviews stay byte-for-byte what they were; the users, jobs, stages, candidates and
applications it drew become top-level records (:mod:`~gateway.sandbox.people`,
:mod:`~gateway.sandbox.hiring`, :mod:`~gateway.sandbox.pipeline`), drawn with a second seeded RNG
(:mod:`~gateway.sandbox.dice`). Every inline record is cut from the top-level record of the same
id (:func:`gateway.sandbox.shaping.project`), so the two agree field by field.

Kombo ids are unique per model only, and some are shared across models on purpose: a user's id is
also a candidate's, an interview's and a tag's; a job's is a user's and a candidate's; a deleted
stage's is an application's; a deleted rejection reason's is a candidate's; an offer's is a
role's. :func:`shared_ids` lists them.

A model the integration lacks (``lacking``) has no records, and no record inlines it (no
``interviews`` in applications, no ``offers``, no ``system_roles`` / ``job_roles``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.sandbox.changes import updated_at
from gateway.sandbox.dice import Dice
from gateway.sandbox.generation import Shape, draw
from gateway.sandbox.hiring import draw_jobs, draw_rejection_reasons, draw_stages
from gateway.sandbox.people import draw_roles, draw_tags, draw_users
from gateway.sandbox.pipeline import (
    draw_applications,
    draw_candidates,
    draw_offers,
    link_candidates,
)
from gateway.sandbox.shaping import Draft

__all__ = ["SandboxRecord", "World", "build_world", "shared_ids"]


@dataclass(frozen=True)
class SandboxRecord:
    """One record as the sandbox upstream serves it."""

    payload: dict[str, Any]
    """Exactly the upstream JSON object of one record (snake_case, as in the spec)."""
    updated_at: str
    """When the record or its nested data (per the endpoint's ``updated_after`` table) last
    changed (``...Z``); ``>= payload["changed_at"]``. This is what ``updated_after`` compares."""


World = Mapping[str, tuple[SandboxRecord, ...]]
"""An integration's records by model name (``"Interview"``…), each tuple in upstream order."""


def build_world(shape: Shape, lacking: frozenset[str]) -> World:
    """The records of every model ``shape``'s integration has (not those in ``lacking``)."""
    drawn = draw(shape)
    dice = Dice(shape.seed * 31 + 7, drawn.ids)
    roles = [] if "Role" in lacking else draw_roles(dice)
    users = draw_users(dice, drawn.users, roles, shape.domain)
    tags = draw_tags(dice, shared_with=drawn.users[1]["id"])
    stages = draw_stages(dice, drawn.stage_ids, shared_with=drawn.applications[0]["id"])
    reasons = draw_rejection_reasons(dice, shared_with=drawn.candidates[1]["id"])
    jobs = draw_jobs(dice, drawn.jobs, stages, users, roles, shape.domain)
    candidates = draw_candidates(dice, drawn.candidates, tags, shared_with=drawn.jobs[2]["id"])
    interviews = [] if "Interview" in lacking else list(drawn.interviews)
    applications = draw_applications(
        dice, drawn.applications, interviews, candidates, jobs, stages, len(drawn.candidates)
    )
    offers = []
    if "Offer" not in lacking:
        offers = draw_offers(dice, applications, roles[0].id if roles else None)
    link_candidates(candidates, applications)

    drafts: dict[str, list[Draft]] = {
        "Interview": [
            Draft(p, {"interviewers": u} if u > p["changed_at"] else {}) for p, u in interviews
        ],
        "Application": applications,
        "Candidate": candidates,
        "Job": jobs,
        "User": users,
        "Offer": offers,
        "Tag": tags,
        "RejectionReason": reasons,
        "ApplicationStage": stages,
        "Role": roles,
    }
    for model, records in drafts.items():
        if model != "Interview":  # the interviews keep the generator's upstream order
            dice.rng.shuffle(records)
    changed: dict[tuple[str, str, str], str] = {}
    for model, records in drafts.items():
        for d in records:
            changed[(model, "id", d.id)] = d.payload["changed_at"]
            if d.payload.get("remote_id") is not None:
                changed[(model, "remote_id", d.payload["remote_id"])] = d.payload["changed_at"]
    world = {
        model: tuple(SandboxRecord(d.payload, updated_at(model, d, changed)) for d in records)
        for model, records in drafts.items()
        if model not in lacking
    }
    for record, (_, generated) in zip(world.get("Interview", ()), interviews, strict=True):
        if record.updated_at != generated:
            raise AssertionError(f"interview {record.payload['id']}: updated_at moved")
    return world


def shared_ids(world: World) -> dict[str, frozenset[str]]:
    """Kombo ids held by records of more than one model → those models."""
    models: dict[str, set[str]] = defaultdict(set)
    for model, records in world.items():
        for r in records:
            models[r.payload["id"]].add(model)
    return {i: frozenset(m) for i, m in models.items() if len(m) > 1}
