"""Application stages, rejection reasons and jobs.

- Stages: the eight the interviews generator drew (interviews' ``stage_id``), in pipeline order,
  plus one deleted stage that shares its Kombo id with an application.
- Rejection reasons: the names applications carry in ``rejection_reason_name``, plus a deleted
  one that shares its Kombo id with a candidate.
- Jobs: the drawn ones (``id``/``remote_id``/``name`` exactly as interviews inline them) plus a
  deleted one and a draft no one applied to. Each job's ``stages`` is a subset of the pipeline in
  order (``index`` its position there), its ``hiring_team`` users with their roles on the job.
  The open-string enums (``employment_type``…) hold the spec's values, an unknown value once, and
  are ``null`` or absent sometimes.
"""

from __future__ import annotations

from typing import Any

from gateway.sandbox.dice import Dice, ts
from gateway.sandbox.people import system_role
from gateway.sandbox.shaping import ABSENT, Draft, assemble, inline_shape, project

__all__ = ["REJECTION_REASONS", "draw_jobs", "draw_rejection_reasons", "draw_stages"]

_STAGES = (
    "Applied", "Screening", "Phone interview", "Technical interview", "Onsite",
    "Reference check", "Offer", "Hired",
)  # fmt: skip
REJECTION_REASONS = (
    "Position filled", "Candidate withdrew", "Überqualifiziert", "Salary expectations",
    "Not a culture add", "No response 🤷",
)  # fmt: skip
"""The generator's rejection reason names, in its order."""

_EMPLOYMENT = ("FULL_TIME", "FULL_TIME", "PART_TIME", "CONTRACT", "SEASONAL", "INTERNSHIP")
_STATUS = ("OPEN", "OPEN", "OPEN", "CLOSED", "DRAFT", "ARCHIVED")
_VISIBILITY = ("PUBLIC", "PUBLIC", "INTERNAL", "UNLISTED", "CONFIDENTIAL")
_REMOTE_WORK = ("REMOTE", "HYBRID", "ON_SITE", "TEMPORARY", None)
_DEPARTMENTS = ("Engineering", "Design", "Sales", "People", "Customer Success", None)
_TEAM_ROLES = ("RECRUITER", "HIRING_MANAGER", "COORDINATOR", "SOURCER", "INTERVIEWER")


def draw_stages(dice: Dice, drawn: list[str], shared_with: str) -> list[Draft]:
    drafts = []
    for n, stage_id in enumerate([*drawn, None]):
        remote_id = None if n == 5 else f"stage-{300 + n}"
        changed = dice.changed()
        deleted = dice.after(changed, 15) if stage_id is None else None
        name = _STAGES[n] if n < len(_STAGES) else "Archiv 🗄️"
        payload = assemble(
            "ApplicationStage",
            {
                "id": stage_id or dice.new_id("ApplicationStage", shared_with),
                "remote_id": remote_id,
                "name": None if n == 2 else name,
                "remote_data": {"/stages": {"id": remote_id, "label": name}} if n % 3 else None,
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
            },
        )
        drafts.append(Draft(payload))
    return drafts


def draw_rejection_reasons(dice: Dice, shared_with: str) -> list[Draft]:
    drafts = []
    for n, name in enumerate([*REJECTION_REASONS, "Duplicate application"]):
        changed = dice.changed()
        deleted = dice.after(changed, 15) if n == len(REJECTION_REASONS) else None
        payload = assemble(
            "RejectionReason",
            {
                "id": dice.new_id("RejectionReason", shared_with if deleted else None),
                "remote_id": f"rr-{n + 1}",
                "name": name,
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
                "remote_data": None if n % 2 else {"/rejection_reasons": {"id": n + 1}},
            },
        )
        drafts.append(Draft(payload))
    return drafts


def _maybe(dice: Dice, values: tuple[str | None, ...], n: int) -> Any:
    """An open-string enum value: absent for job 2, null for job 3, unknown for job 4."""
    if n == 2:
        return ABSENT
    if n == 3:
        return None
    if n == 4 and values is _EMPLOYMENT:
        return "APPRENTICESHIP"  # not one of the spec's values: the field is an open string
    return dice.choice(values)


def _screening_questions(dice: Dice, job_n: int) -> list[dict[str, Any]]:
    if job_n % 3:
        return []
    text = {"type": "TEXT", "display_type": "MULTI_LINE", "max_length": 2000}
    select = {
        "type": "SINGLE_SELECT",
        "display_type": "DROPDOWN",
        "options": [
            {"id": dice.new_id("option"), "remote_id": "opt-1", "name": "Yes"},
            {"id": dice.new_id("option"), "name": "No"},
        ],
    }
    questions = []
    for n, (title, fmt) in enumerate((("Why us? 💬", text), ("Work permit?", select))):
        questions.append(
            {
                "id": dice.new_id("question"),
                "remote_id": f"q-{job_n}-{n}",
                "title": title,
                "description": None,
                "format": fmt,
                "category": None,
                "index": n,
                "required": n == 0,
            }
        )
    return questions


def _postings(dice: Dice, job: dict[str, Any], domain: str) -> list[dict[str, Any]]:
    if job["post_url"] is None:
        return []
    return [
        {
            "id": dice.new_id("posting"),
            "remote_id": f"post-{job['remote_id']}",
            "title": job["name"],
            "description_html": f"<p>{job['name']}</p>",
            "status": "ACTIVE" if job.get("status") == "OPEN" else "INACTIVE",
            "visibility": "PUBLIC",
            "url": job["post_url"],
            "remote_data": None,
        }
    ]


def _hiring_team(
    dice: Dice, users: list[Draft], roles: list[Draft], n: int
) -> list[dict[str, Any]]:
    shape = inline_shape("Job", "hiring_team")
    job_roles = [r.payload for r in roles if r.payload["scope"] == "JOB" and not r.deleted]
    live = [u.payload for u in users if not u.deleted]
    team = []
    for user in dice.rng.sample(live, 0 if n == 1 else dice.choice((1, 2, 3))):
        member = project(user, shape)
        member["hiring_team_roles"] = sorted(dice.rng.sample(_TEAM_ROLES, dice.choice((1, 1, 2))))
        member["job_roles"] = [
            system_role(r) for r in dice.rng.sample(job_roles, min(1, len(job_roles)))
        ]
        team.append(member)
    return team


def draw_jobs(
    dice: Dice,
    drawn: list[dict[str, Any]],
    stages: list[Draft],
    users: list[Draft],
    roles: list[Draft],
    domain: str,
) -> list[Draft]:
    """Top-level jobs: the drawn ones, then a deleted one and a draft."""
    pipeline = [s.payload for s in stages if not s.deleted]
    stage_shape = inline_shape("Job", "stages")
    sources = [dict(j) for j in drawn]
    for n, name in enumerate(("Legacy Role (do not use)", "Draft: Founding Engineer")):
        sources.append({"id": dice.new_id("Job"), "remote_id": str(790 + n), "name": name})
    drafts = []
    for n, job in enumerate(sources):
        changed = dice.changed()
        deleted = dice.after(changed, 20) if n == len(drawn) else None
        created = dice.created()
        status = "DRAFT" if n == len(drawn) + 1 else _maybe(dice, _STATUS, n)
        visibility = _maybe(dice, _VISIBILITY, n)
        salary = dice.choice((None, 55000.0, 72000.5, 90000.0))
        kept = [s for s in pipeline if n % 4 == 0 or s["name"] != "Reference check"]
        values: dict[str, Any] = {
            **job,
            "job_code": None if n % 5 == 1 else f"JC-{job['remote_id']}",
            "description": None if n % 4 == 3 else f"<p>Join us as <b>{job['name']}</b>.</p>",
            "confidential": dice.choice((False, False, True, None)),
            "weekly_hours": dice.choice((40.0, 37.5, 20.0, None)),
            "employment_type": _maybe(dice, _EMPLOYMENT, n),
            "status": status,
            "visibility": visibility,
            "category": dice.choice(("Tech", "Business", None)),
            "department": dice.choice(_DEPARTMENTS),
            "post_url": f"https://jobs.{domain}/o/{job['remote_id']}"
            if visibility == "PUBLIC"
            else None,
            "experience_level": dice.choice(("Senior", "Junior", None)),
            "remote_work_status": _maybe(dice, _REMOTE_WORK, n),
            "salary_amount": salary,
            "salary_amount_from": salary and salary * 0.9,
            "salary_amount_to": salary and salary * 1.1,
            "salary_currency": salary and "EUR",
            "salary_period": ABSENT if n == 5 else ("YEAR" if salary else None),
            "location": ABSENT
            if n % 6 == 5
            else {"city": "Berlin", "country": "DE", "raw": "Berlin, Germany"},
            "custom_fields": {"cost_center": f"CC-{n}"} if n % 2 else None,
            "integration_fields": [],
            "remote_url": f"https://ats.{domain}/jobs/{job['remote_id']}",
            "opened_at": ts(created),
            "closed_at": ts(dice.after(created, 90)) if status == "CLOSED" else None,
            "remote_created_at": ts(created),
            "remote_updated_at": ts(dice.after(created, 30)),
            "contact_id": None if n % 3 == 2 else dice.choice(users).id,
            "remote_data": None if n % 4 == 1 else {f"/jobs/{job['remote_id']}": {"n": n}},
            "changed_at": ts(deleted or changed),
            "remote_deleted_at": ts(deleted),
            "stages": [{**project(s, stage_shape), "index": i} for i, s in enumerate(kept)],
            "screening_questions": _screening_questions(dice, n),
            "hiring_team": _hiring_team(dice, users, roles, n),
        }
        values["job_postings"] = _postings(dice, values, domain)
        events = {
            path: event
            for path in ("stages", "hiring_team", "job_postings", "screening_questions")
            if (event := dice.later(deleted or changed, 0.12))
        }
        drafts.append(Draft(assemble("Job", values), events))
    return drafts
