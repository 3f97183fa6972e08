"""Candidates, applications and offers: who applied where, and how it went.

- Candidates: every candidate the interviews generator drew (``id``, names, ``email_addresses``
  exactly as interviews inline them, absent where absent), plus candidates whose applications
  have no interviews, one of them deleted. ``tags`` are live tags; ``applications`` their live
  applications (filled in last, from the top-level applications).
- Applications: the drawn ones (``outcome``, ``rejection_reason_name``, ``candidate``, ``job`` as
  interviews inline them) plus the extra candidates' applications, two deleted. Their
  ``changed_at`` is never later than any of their interviews' ``updated_at``, so the interviews'
  ``updated_after`` answers stay what they were before applications became records.
  ``interviews`` and ``offers`` list the live ones.
- Offers: for about a third of the live applications with an outcome, the status following it;
  one deleted, one with ``status`` null.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from gateway.sandbox.dice import INITIAL_SYNC, Dice, ts
from gateway.sandbox.generation import format_timestamp
from gateway.sandbox.shaping import ABSENT, Draft, assemble, inline_shape, project

__all__ = ["draw_applications", "draw_candidates", "draw_offers", "link_candidates"]

_SOURCES = ("LinkedIn", "Referral", "Career page", "Indeed", "Agency: Müller & Co.", None)
_EXTRA_CANDIDATES = (("Émile", "Zola"), ("Ngozi", "Adichie"), ("李", "娜"), ("Olga", "Tokarczuk"))
_OFFER_STATUS = {
    "HIRED": ("ACCEPTED",),
    "PENDING": ("SENT", "APPROVED", "DRAFT"),
    "DECLINED": ("DECLINED", "ABANDONED"),
}


def draw_candidates(
    dice: Dice, drawn: list[dict[str, Any]], tags: list[Draft], shared_with: str
) -> list[Draft]:
    """Top-level candidates (``applications`` empty until :func:`link_candidates`)."""
    live_tags = [t.payload for t in tags if not t.deleted]
    tag_shape = inline_shape("Candidate", "tags")
    sources = [dict(c) for c in drawn]
    for n, (first, last) in enumerate(_EXTRA_CANDIDATES):
        sources.append(
            {
                "id": dice.new_id("Candidate", shared_with if n == 0 else None),
                "remote_id": f"cand-{8000 + n}",
                "first_name": first,
                "last_name": last,
                "email_addresses": [{"email_address": f"extra{n}@mail.example", "type": "PRIVATE"}],
            }
        )
    drafts = []
    for n, c in enumerate(sources):
        changed = dice.changed()
        deleted = dice.after(changed, 20) if n == len(drawn) + 1 else None
        created = dice.created()
        tagged = dice.rng.sample(live_tags, dice.choice((0, 0, 1, 1, 2)))
        payload = assemble(
            "Candidate",
            {
                **c,
                "email_addresses": c.get("email_addresses", ABSENT),
                "company": dice.choice(("Initrode", "Globex", "Acme", None)),
                "title": dice.choice(("Engineer", "Designer", None)),
                "confidential": dice.choice((False, False, True, None)),
                "source": dice.choice(_SOURCES),
                "phone_numbers": ABSENT
                if n % 7 == 3
                else [{"phone_number": f"+49 30 {1000 + n}", "type": "MOBILE"}][: n % 2],
                "social_media": ABSENT
                if n % 5 == 2
                else [{"link": f"https://social.example/u/{n}", "type": "LINKEDIN"}][: n % 3 % 2],
                "location": ABSENT if n % 4 else {"city": "Wien", "country": "AT"},
                "custom_fields": {"notice_period_weeks": n % 9} if n % 3 == 0 else None,
                "integration_fields": [],
                "remote_url": None
                if n % 6 == 5
                else f"https://ats.example/candidates/{c['remote_id']}",
                "remote_created_at": ts(created),
                "remote_updated_at": None if n == 9 else ts(dice.after(created, 40)),
                "remote_data": None if n % 4 == 1 else {f"/candidates/{c['remote_id']}": {}},
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
                "applications": [],
                "tags": [project(t, tag_shape) for t in tagged],
            },
        )
        event = dice.later(deleted or changed, 0.3) if tagged else None
        drafts.append(Draft(payload, {"tags": event} if event else {}))
    return drafts


def _answers(dice: Dice, n: int) -> Any:
    if n % 4 == 3:
        return ABSENT
    if n % 4:
        return None if n % 4 == 2 else []
    return [
        {
            "question": {"remote_id": "q-why", "title": "Why us? 💬", "type": "TEXT"},
            "answer": {"content": dice.choice(("The mission.", "Remote work 🌍", None))},
        },
        {
            "question": {"remote_id": None, "title": "Work permit?", "type": "BOOLEAN"},
            "answer": {"checked": dice.choice((True, False, None))},
        },
    ]


def draw_applications(
    dice: Dice,
    drawn: list[dict[str, Any]],
    interviews: list[tuple[dict[str, Any], str]],
    candidates: list[Draft],
    jobs: list[Draft],
    stages: list[Draft],
    n_drawn_candidates: int,
) -> list[Draft]:
    """Top-level applications (``offers`` empty until :func:`draw_offers`)."""
    by_app: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for payload, updated in interviews:
        if payload["application"] is not None:
            by_app[payload["application_id"]].append((payload, updated))
    candidate_of = {c.id: c.payload for c in candidates}
    job_of = {j.id: j.payload for j in jobs}
    stage_of = {s.id: s.payload for s in stages}
    live_jobs = [j.payload for j in jobs if not j.deleted and j.payload.get("status") != "DRAFT"]
    sources = [dict(a) for a in drawn]
    for n, c in enumerate(candidates[n_drawn_candidates:]):
        if c.deleted:
            continue
        for k in range(1 + n % 2):
            target = live_jobs[(n * 3 + k) % len(live_jobs)]
            sources.append(
                {
                    "id": dice.new_id("Application"),
                    "remote_id": str(20_000 + 10 * n + k),
                    "outcome": ("PENDING", "DECLINED")[k],
                    "rejection_reason_name": (None, "Candidate withdrew")[k],
                    "candidate": {"id": c.id},
                    "job": {"id": target["id"]},
                }
            )
    cand_shape = inline_shape("Application", "candidate")
    job_shape = inline_shape("Application", "job")
    stage_shape = inline_shape("Application", "current_stage")
    interview_shape = inline_shape("Application", "interviews")
    drafts = []
    for n, app in enumerate(sources):
        own = by_app.get(app["id"], [])
        # Never after any of its interviews' updated_at (``...Z`` text compares as time).
        ceiling = min((u for _, u in own), default=None)
        changed_at = format_timestamp(INITIAL_SYNC)
        if ceiling is not None and dice.chance(0.4):
            changed_at = dice.choice([ceiling, changed_at])
        deleted = None
        if n >= len(drawn) and n % 5 == 2:
            deleted = dice.after(datetime.fromisoformat(changed_at), 10)
            changed_at = format_timestamp(deleted)
        candidate = candidate_of[app["candidate"]["id"]] if app["candidate"] else None
        job = job_of[app["job"]["id"]] if app["job"] else None
        stage: dict[str, Any] | None = None
        if job is not None and job["stages"] and n % 8 != 7:
            stage = dice.choice(job["stages"])
        elif job is None and n % 2:
            stage = {**project(stage_of[dice.choice(list(stage_of))], stage_shape), "index": None}
        created = dice.created()
        payload = assemble(
            "Application",
            {
                "id": app["id"],
                "remote_id": app["remote_id"],
                "outcome": app["outcome"],
                "rejection_reason_name": app["rejection_reason_name"],
                "rejected_at": ts(dice.after(created, 50))
                if app["outcome"] == "DECLINED"
                else None,
                "current_stage_id": stage and stage["id"],
                "job_id": job and job["id"],
                "candidate_id": candidate and candidate["id"],
                "screening_question_answers": _answers(dice, n),
                "custom_fields": None if n % 3 else {"referrer": "Zoë"},
                "integration_fields": [],
                "remote_url": None if n % 7 == 6 else f"https://ats.example/applications/{n}",
                "changed_at": changed_at,
                "remote_deleted_at": ts(deleted),
                "remote_created_at": ts(created),
                "remote_updated_at": None if n == 4 else ts(dice.after(created, 20)),
                "remote_data": None if n % 4 == 2 else {f"/applications/{app['remote_id']}": {}},
                "candidate": candidate and project(candidate, cand_shape),
                "current_stage": stage and {**project(stage, stage_shape), "index": stage["index"]},
                "job": job and project(job, job_shape),
                "interviews": [
                    project(p, interview_shape) for p, _ in own if p["remote_deleted_at"] is None
                ],
                "offers": [],
            },
        )
        drafts.append(Draft(payload))
    return drafts


def draw_offers(dice: Dice, applications: list[Draft], shared_with: str | None) -> list[Draft]:
    """Offers, added to their applications' ``offers``."""
    shape = inline_shape("Offer", "application")
    listed = inline_shape("Application", "offers")
    drafts: list[Draft] = []
    for app in applications:
        outcome = app.payload["outcome"]
        if app.deleted or outcome is None or not dice.chance(0.35):
            continue
        n = len(drafts)
        changed = dice.changed()
        deleted = dice.after(changed, 10) if n == 1 else None
        created = dice.created()
        payload = assemble(
            "Offer",
            {
                "id": dice.new_id("Offer", shared_with if n == 0 else None),
                "remote_id": None if n == 3 else f"offer-{600 + n}",
                "status": None if n == 4 else dice.choice(_OFFER_STATUS[outcome]),
                "employment_start_date": None if n % 3 == 1 else ts(dice.after(created, 60)),
                "application_id": app.id,
                "custom_fields": None,
                "integration_fields": [],
                "changed_at": ts(deleted or changed),
                "remote_deleted_at": ts(deleted),
                "remote_created_at": ts(created),
                "remote_updated_at": ts(dice.after(created, 5)),
                "remote_data": None if n % 2 else {f"/offers/{600 + n}": {"signed": n % 3 == 0}},
                "application": project(app.payload, shape),
            },
        )
        if deleted is None:
            app.payload["offers"].append(project(payload, listed))
        drafts.append(Draft(payload))
    return drafts


def link_candidates(candidates: list[Draft], applications: list[Draft]) -> None:
    """Fill each candidate's ``applications`` with its live applications."""
    shape = inline_shape("Candidate", "applications")
    by_candidate: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for app in applications:
        if not app.deleted and app.payload["candidate_id"] is not None:
            by_candidate[app.payload["candidate_id"]].append(project(app.payload, shape))
    for candidate in candidates:
        candidate.payload["applications"] = by_candidate.get(candidate.id, [])
