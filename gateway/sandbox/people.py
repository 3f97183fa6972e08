"""Roles, users and tags: the records other records point at.

- Roles: system-wide and job-scoped, one without a scope, one without a remote id (deleted).
- Users: every user the interviews generator drew (interviewers keep exactly their inline
  fields, ``email`` absent where it is absent inline), plus a few no interview names: one deleted,
  one inactive. ``system_roles`` copy the system roles' fields; assigning a role later is a
  ``system_role_assignment`` event.
- Tags: a small set; one shares its Kombo id with a user and an interview.
"""

from __future__ import annotations

from typing import Any

from gateway.sandbox.dice import INITIAL_SYNC, Dice, ts
from gateway.sandbox.shaping import ABSENT, Draft, assemble

__all__ = ["draw_roles", "draw_tags", "draw_users", "system_role"]

_ROLES: tuple[tuple[str | None, str | None, str | None], ...] = (
    ("SYSTEM", "Site Admin", "ADMIN"),
    ("SYSTEM", "Recruiter", "RECRUITER"),
    ("SYSTEM", "Interviewer", "INTERVIEWER"),
    ("SYSTEM", "Basic (read only)", None),
    ("JOB", "Hiring Manager", "HIRING_MANAGER"),
    ("JOB", "Job Recruiter", "RECRUITER"),
    ("JOB", "Coordinator", "COORDINATOR"),
    ("JOB", "Sourcer", "SOURCER"),
    ("JOB", "Panel Interviewer 🎤", "INTERVIEWER"),
    (None, None, None),  # a role the ATS no longer labels: deleted
)
_TAGS = (
    "🔥 Hot lead", "Referral", "Rehire", "Silver medalist", "Do not contact",
    "Visa sponsorship", "Relocation", "Boomerang ↩",
)  # fmt: skip
_EXTRA_USERS = (("Grace", "Hopper"), ("Alan", "Turing"), ("Ада", "Лавлейс"))


def _remote_data(path: str, remote_id: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    return {f"{path}/{remote_id}" if remote_id else path: {"id": remote_id, **extra}}


def draw_roles(dice: Dice) -> list[Draft]:
    drafts = []
    for n, (scope, label, unified) in enumerate(_ROLES):
        remote_id = None if label is None else f"role-{n + 1}"
        changed = dice.changed()
        deleted = dice.after(changed, 20) if label is None else None
        payload = assemble(
            "Role",
            {
                "id": dice.new_id("Role"),
                "remote_id": remote_id,
                "remote_label": label,
                "scope": scope,
                "unified_type": unified,
                "remote_data": _remote_data("/roles", remote_id, {"name": label}),
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
            },
        )
        drafts.append(Draft(payload))
    return drafts


def system_role(role: dict[str, Any]) -> dict[str, Any]:
    """A user's ``system_roles`` entry (or a hiring team member's ``job_roles`` entry)."""
    keys = ("remote_id", "remote_label", "scope", "unified_type")
    return {k: role[k] for k in keys}


def draw_users(
    dice: Dice, drawn: list[dict[str, Any]], roles: list[Draft], domain: str
) -> list[Draft]:
    """Top-level users: the drawn ones (same fields as inline), then the extras."""
    system = [r.payload for r in roles if r.payload["scope"] == "SYSTEM" and not r.deleted]
    sources = [dict(u) for u in drawn]
    for n, (first, last) in enumerate(_EXTRA_USERS):
        sources.append(
            {
                "id": dice.new_id("User"),
                "remote_id": str(9500 + n),
                "first_name": first,
                "last_name": last,
                "email": f"{first.lower()}.{last.lower()}@{domain}" if n < 2 else None,
            }
        )
    drafts = []
    for n, user in enumerate(sources):
        changed = dice.changed()
        deleted = dice.after(changed, 30) if n == len(drawn) else None
        status: str | None = "INACTIVE" if deleted or n == len(drawn) + 1 else "ACTIVE"
        if n == 7:
            status = None  # the ATS does not say
        assigned = dice.rng.sample(system, min(len(system), dice.choice((0, 1, 1, 1, 2))))
        payload = assemble(
            "User",
            {
                **{k: user.get(k, ABSENT) for k in ("id", "remote_id", "first_name", "last_name")},
                "email": user.get("email", ABSENT),
                "status": status,
                "remote_data": None
                if n % 5 == 4
                else _remote_data("/users", user["remote_id"], {"active": status == "ACTIVE"}),
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
                "system_roles": [system_role(r) for r in assigned],
            },
        )
        event = dice.later(deleted or changed, 0.25) if assigned else None
        drafts.append(Draft(payload, {"system_role_assignment": event} if event else {}))
    return drafts


def draw_tags(dice: Dice, shared_with: str) -> list[Draft]:
    """Tags; the first one's id is ``shared_with`` (a user's and an interview's id)."""
    drafts = []
    for n, name in enumerate(_TAGS):
        remote_id = None if n == 3 else f"tag-{40 + n}"
        changed = INITIAL_SYNC if n < 4 else dice.changed()
        deleted = dice.after(changed, 10) if n in (5, 7) else None
        payload = assemble(
            "Tag",
            {
                "id": dice.new_id("Tag", shared_with if n == 0 else None),
                "remote_id": remote_id,
                "name": None if n == 6 else name,
                "remote_data": None if n % 2 else _remote_data("/tags", remote_id, {"label": name}),
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
            },
        )
        drafts.append(Draft(payload))
    return drafts
