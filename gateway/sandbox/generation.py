"""How the sandbox's interviews are generated: deterministic, full of the edge cases Kombo sends.

Everything here is generated from fixed seeds, so the same integration yields the same interviews
in every process and on every machine (``random.Random(seed)`` only; never ``hash()``, the clock or
the global random state).

What the data is built to exercise, because a real Kombo tenant will eventually send all of it:

- Every nullable field of the spec is ``null`` somewhere (the interview's own fields, ``location``
  and each of its fields, ``application`` and each of its nullable parts, ``candidate``, ``job``,
  ``email_addresses`` and its items' fields, ``outcome``, ``canceled``, ``remote_data``...).
- Optional keys are sometimes *absent*, as the spec allows: ``location`` (not in the interview's
  ``required`` list), a user's ``email``, a candidate's ``email_addresses`` and an email item's
  ``email_address``.
- Kombo ids (24 base58 characters) are unique within one type only: one user shares its id with a
  candidate, one interview shares its id with a user, and one job shares its id with a user.
- Unicode everywhere (``Zoë``, ``Łukasz``, ``山田``, right-to-left names, emoji), quotes and HTML
  in titles, and ``remote_data`` keyed by the remote endpoint path (``{"/interviews/123": {...}}``).
- Some interviews are deleted (``remote_deleted_at`` set); many share the same ``changed_at``
  (Kombo's initial sync stamps every record at once), which makes ``updated_after`` boundaries
  matter.
- An interview's ``updated_at`` (:attr:`~gateway.sandbox.data.SandboxInterview.updated_at`) is
  the hidden "this record or its nested data changed" instant that ``updated_after`` filters on.
  It equals ``changed_at`` for most interviews and is later for some (an interviewer was added,
  the application changed), as the spec describes.
"""

from __future__ import annotations

import copy
import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Drawn", "Shape", "draw", "format_timestamp", "generate_interviews"]


@dataclass(frozen=True)
class Shape:
    """How one integration's interviews are generated: its seed, its sizes, its email domain and
    the format of its interviews' remote ids."""

    seed: int
    interviews: int
    jobs: int
    users: int
    domain: str
    remote_id_style: str


def format_timestamp(value: datetime) -> str:
    """``YYYY-MM-DDTHH:mm:ss.sssZ``, Kombo's timestamp format (UTC, milliseconds)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def generate_interviews(shape: Shape) -> tuple[tuple[dict[str, Any], str], ...]:
    """The interviews of ``shape`` in upstream order: each its payload (Kombo's JSON object) and
    its hidden ``updated_at`` (``...Z``)."""
    return draw(shape).interviews


@dataclass(frozen=True)
class Drawn:
    """Everything the interviews generator drew for one integration: the interviews, and the
    records they embed (as the interviews embed them), for :mod:`gateway.sandbox.world` to grow
    into top-level records. Drawing them never changes the interviews."""

    interviews: tuple[tuple[dict[str, Any], str], ...]
    users: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    stage_ids: list[str]
    candidates: list[dict[str, Any]]
    applications: list[dict[str, Any]]
    ids: dict[str, set[str]]


def draw(shape: Shape) -> Drawn:
    """The interviews of ``shape`` and the users, jobs, stages, candidates and applications drawn
    for them (shared, generated objects: copy before changing)."""
    generator = _Generator(shape)
    interviews = generator.build()
    return Drawn(
        interviews,
        generator.drawn_users,
        generator.drawn_jobs,
        generator.drawn_stages,
        generator.drawn_candidates,
        generator.drawn_applications,
        generator.ids,
    )


_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

_FIRST_NAMES = (
    "Anna", "Ben", "Chloé", "José", "Søren", "Ayşe", "Siobhán", "Björn", "Priya", "Kwame",
    "María José", "Олена", "محمد", "Nguyễn Văn", "Hélène", "Jürgen", "Ingrid", "Mateo",
    "Fatima", "Noah", "Élodie", "Ravi", "Zsófia", "Camille",
)  # fmt: skip
_LAST_NAMES = (
    "Schmidt", "O'Connor", "Dvořák", "Nakamura", "van der Berg", "García Márquez", "Kowalska",
    "Øvergaard", "Smith-Jones", "Rossi", "Yılmaz", "Kim", "Petrović", "Haddad", "Lefèvre",  # noqa: RUF001
    "Müller", "Abiodun", "Nieminen", "Costa", "Weiß",
)  # fmt: skip
_PINNED_USERS = (("Zoë", "Müller"), ("Łukasz", "Wiśniewski"), ("Sam 🌈", "Okafor"))
_PINNED_CANDIDATES = (
    ("太郎", "山田"),
    ("Zoë", "Łaszewska"),
    ("🦄 Uni", "Corn"),
    ("Ørjan", "Ødegård"),
)

_JOB_NAMES = (
    "Backend Engineer", "Senior Product Designer", "Vertriebsmitarbeiter (m/w/d)",
    "Ingénieur·e DevOps", "データサイエンティスト", "Head of People 🌱", "Customer Success Manager",
    "Staff Engineer, Payments", "Werkstudent*in Marketing", "Frontend Engineer (React)",
    "Data Analyst", "Recruiter — EMEA", "Site Reliability Engineer", "Product Manager",
    "QA Engineer", "Office Manager", "Mobile Engineer (iOS)", "Security Engineer",
    "Account Executive DACH", "Technical Writer",
)  # fmt: skip
_INTERVIEW_KINDS = (
    "Phone screen", "Technical interview", "Onsite", "Culture fit", "Hiring manager chat",
    "Take-home review", "Final round", "Entretien RH", "Fachgespräch", "Coffee chat ☕",
)  # fmt: skip
_REJECTION_REASONS = (
    "Position filled", "Candidate withdrew", "Überqualifiziert", "Salary expectations",
    "Not a culture add", "No response 🤷",
)  # fmt: skip
_EMAIL_DOMAINS = ("mail.example", "posteo.example", "inbox.example.co.uk", "fastmail.example")
_EMAIL_TYPES = ("PRIVATE", "WORK", "OTHER", None)

_LOCATION_KEYS = ("city", "country", "raw", "state", "street_1", "street_2", "zip_code")
# Between them, every location field is null somewhere.
_OFFICES: tuple[tuple[str | None, ...], ...] = (
    ("Berlin", "DE", "Lohmühlenstraße 65, 12435 Berlin, Germany", "Berlin",
     "Lohmühlenstraße 65", None, "12435"),
    ("München", "DE", "Leopoldstraße 8, 3. OG, 80802 München", "Bayern",
     "Leopoldstraße 8", "3. OG", "80802"),
    ("東京", "JP", "東京都渋谷区神南1-2-3", "東京都", "神南1-2-3", None, "150-0041"),
    ("Kraków", "PL", "ul. Długa 12, lokal 4, 31-147 Kraków", None, "ul. Długa 12", "lokal 4",
     "31-147"),
    ("London", "GB", "1 Canada Square, London E14 5AB", None, "1 Canada Square", None, "E14 5AB"),
    ("São Paulo", "BR", None, "SP", "Av. Paulista 1000", None, "01310-100"),
    # Kombo puts the original value in `country` when it is no ISO2 code.
    (None, "Remote – Europe", "Remote – Europe", None, None, None, None),  # noqa: RUF001
    (None, None, 'Meeting room "Ada" (2nd floor)', None, None, None, None),
    (None, None, None, None, None, None, None),
)  # fmt: skip

_EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
# Kombo's initial sync stamps every record it sees with the same instant.
_INITIAL_SYNC = datetime(2024, 2, 20, 3, 12, 45, 123_000, tzinfo=UTC)


# Letters NFKD does not decompose into ASCII.
_FOLD = str.maketrans({"ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "ı": "i"})  # noqa: RUF001


def _ascii_slug(text: str) -> str:
    folded = text.lower().translate(_FOLD)
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode()
    return "".join(c for c in folded if c.isalnum())


class _Generator:
    """Builds one integration's interviews from its shape; all randomness from one seeded RNG."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.rng = random.Random(shape.seed)
        self.ids: dict[str, set[str]] = {}
        self.remote_counter = 1000
        self.drawn_users: list[dict[str, Any]] = []
        self.drawn_jobs: list[dict[str, Any]] = []
        self.drawn_stages: list[str] = []
        self.drawn_candidates: list[dict[str, Any]] = []
        self.drawn_applications: list[dict[str, Any]] = []

    # ids and small values

    def new_id(self, kind: str, reuse: str | None = None) -> str:
        """A fresh 24-character id, unique within ``kind`` (``reuse`` forces a cross-type twin)."""
        seen = self.ids.setdefault(kind, set())
        value = reuse
        if value is None:
            value = "".join(self.rng.choices(_BASE58, k=24))
            while value in seen:
                value = "".join(self.rng.choices(_BASE58, k=24))
        elif value in seen:
            raise AssertionError(f"{value} is already a {kind} id")
        seen.add(value)
        return value

    def next_remote(self) -> int:
        self.remote_counter += self.rng.randint(1, 9)
        return self.remote_counter

    def instant(self, start: datetime, max_days: float) -> datetime:
        millis = self.rng.randint(0, int(max_days * 86_400_000))
        return start + timedelta(milliseconds=millis)

    def name(self) -> tuple[str, str]:
        return self.rng.choice(_FIRST_NAMES), self.rng.choice(_LAST_NAMES)

    # entities

    def users(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        for i in range(self.shape.users):
            first, last = _PINNED_USERS[i] if i < len(_PINNED_USERS) else self.name()
            local = f"{_ascii_slug(first) or 'user'}.{_ascii_slug(last) or i}"
            users.append(
                {
                    "id": self.new_id("user"),
                    "remote_id": str(9000 + i),
                    "first_name": first,
                    "last_name": last,
                    "email": f"{local}@{self.shape.domain}",
                }
            )
        users[3]["remote_id"] = None
        users[4]["first_name"] = None
        users[5]["last_name"] = None
        users[6]["email"] = None  # Kombo nulls invalid addresses
        del users[2]["email"]  # `email` is not required in the spec
        return users

    def jobs(self, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        for i in range(self.shape.jobs):
            name = _JOB_NAMES[i % len(_JOB_NAMES)]
            if i >= len(_JOB_NAMES):
                name = f"{name} ({['Berlin', 'Remote', 'Kraków'][i % 3]})"
            reuse = users[2]["id"] if i == 0 else None  # a job id equal to a user id
            jobs.append({"id": self.new_id("job", reuse), "remote_id": str(700 + i), "name": name})
        jobs[1]["name"] = None
        return jobs

    def email_addresses(self, first: str | None, last: str | None) -> list[dict[str, Any]]:
        local = ".".join(s for s in (_ascii_slug(first or ""), _ascii_slug(last or "")) if s)
        local = local or f"candidate{self.rng.randint(100, 999)}"
        count = self.rng.choice((0, 1, 1, 1, 2, 2, 3))
        addresses = []
        for n in range(count):
            tag = "" if n == 0 else ("+jobs" if n == 1 else f"{n}")
            domain = self.rng.choice(_EMAIL_DOMAINS)
            addresses.append(
                {"email_address": f"{local}{tag}@{domain}", "type": self.rng.choice(_EMAIL_TYPES)}
            )
        return addresses

    def candidate(self, index: int, users: list[dict[str, Any]]) -> dict[str, Any]:
        first: str | None
        last: str | None
        first, last = _PINNED_CANDIDATES[index] if index < len(_PINNED_CANDIDATES) else self.name()
        reuse = users[0]["id"] if index == 0 else None  # a candidate id equal to a user id
        candidate: dict[str, Any] = {
            "id": self.new_id("candidate", reuse),
            "remote_id": f"cand-{5000 + index}",
            "first_name": first,
            "last_name": last,
            "email_addresses": self.email_addresses(first, last),
        }
        quirks: dict[int, Any] = {
            4: lambda c: c.update(first_name=None),
            5: lambda c: c.update(last_name=None),
            6: lambda c: c.update(email_addresses=None),
            7: lambda c: c.pop("email_addresses"),  # not required; defaults to []
            8: lambda c: c.update(email_addresses=[]),
            9: lambda c: c.update(email_addresses=[{"email_address": None, "type": "WORK"}]),
            10: lambda c: c.update(email_addresses=[{"type": "OTHER"}]),  # address absent
            11: lambda c: c["email_addresses"].append(
                {"email_address": "ada.o'neil+ats@mail.example", "type": None}
            ),
        }
        if index in quirks:
            quirks[index](candidate)
        return candidate

    def application(
        self,
        index: int,
        candidate: dict[str, Any],
        jobs: list[dict[str, Any]],
    ) -> dict[str, Any]:
        outcome = self.rng.choice(("PENDING", "PENDING", "PENDING", "HIRED", "DECLINED", None))
        reason = None
        if outcome == "DECLINED" and self.rng.random() < 0.75:
            reason = self.rng.choice(_REJECTION_REASONS)
        application: dict[str, Any] = {
            "id": self.new_id("application"),
            "remote_id": str(self.next_remote()),
            "outcome": outcome,
            "rejection_reason_name": reason,
            "candidate": candidate,
            "job": self.rng.choice(jobs),
        }
        if index == 1:
            application["remote_id"] = None
        elif index == 2:
            application["candidate"] = None
        elif index == 3:
            application["job"] = None
        elif index == 4:
            application.update(outcome=None, rejection_reason_name=None)
        elif index == 5:
            application.update(outcome="DECLINED", rejection_reason_name="Position filled")
        return application

    def location(self, mode: str) -> dict[str, Any] | None:
        if mode != "onsite":
            return None
        return dict(zip(_LOCATION_KEYS, self.rng.choice(_OFFICES), strict=True))

    def remote_data(self, remote_id: str | None, interview_type: str) -> dict[str, Any] | None:
        if self.rng.random() < 0.2:
            return None
        key = f"/interviews/{remote_id}" if remote_id else "/interviews"
        data: dict[str, Any] = {
            key: {
                "id": remote_id,
                "type": interview_type,
                "status": self.rng.choice(("scheduled", "completed", "awaiting_feedback")),
                "private_notes": None,
                "custom_fields": {"🎯 focus": self.rng.choice(("system design", "values", None))},
                "score": self.rng.choice((1, 2.5, 4, None)),
                "is_panel": self.rng.random() < 0.3,
            }
        }
        if self.rng.random() < 0.3:
            data[f"{key}/attendees"] = [
                {"id": self.rng.randint(1, 999), "response_status": "accepted"}
                for _ in range(self.rng.randint(0, 3))
            ]
        return data

    def interview(
        self,
        index: int,
        application: dict[str, Any] | None,
        application_id: str | None,
        users: list[dict[str, Any]],
        stages: list[str],
    ) -> tuple[dict[str, Any], str]:
        """One interview: its payload and its hidden ``updated_at``."""
        remote_number = self.next_remote()
        remote_id: str | None = self.shape.remote_id_style.format(n=remote_number)
        if index == 17:
            remote_id = f"req-{remote_number}:int-2"  # a composite remote id, as the spec warns

        mode = self.rng.choice(("onsite", "video", "video", "phone"))
        created = self.instant(_EPOCH, 120)
        remote_updated = self.instant(created, 10)
        # Interviews start on a quarter hour, between 08:00 and 18:00 UTC.
        day = created.replace(hour=0, minute=0, second=0, microsecond=0)
        starting = day + timedelta(
            days=self.rng.randint(1, 21), minutes=15 * self.rng.randint(32, 72)
        )
        ending = starting + timedelta(minutes=self.rng.choice((30, 45, 60, 90, 240)))
        candidate = application["candidate"] if application else None
        who = (candidate or {}).get("first_name") or "candidate"
        kind = self.rng.choice(_INTERVIEW_KINDS)
        title: str | None = f"{kind} with {who}" if self.rng.random() < 0.9 else kind

        if remote_updated > _INITIAL_SYNC:
            changed = self.instant(remote_updated, 3)
        elif self.rng.random() < 0.75:
            changed = _INITIAL_SYNC
        else:
            changed = self.instant(_INITIAL_SYNC, 60)
        deleted: datetime | None = None
        if index in (20, 21, 22) or (index > 30 and self.rng.random() < 0.08):
            deleted = self.instant(changed, 30)
            changed = deleted  # marking a record deleted changes it
        updated = changed
        if self.rng.random() < 0.3:  # an interviewer or the application changed later
            updated = self.instant(changed, 45)

        count = self.rng.choices((0, 1, 2, 3, 4), weights=(1, 4, 4, 2, 1))[0]
        interviewers = self.rng.sample(users, count)
        if index == 0:
            interviewers = users[:3]  # the users whose ids are shared with other types

        reuse = users[1]["id"] if index == 13 else None  # an interview id equal to a user id
        payload: dict[str, Any] = {
            "id": self.new_id("interview", reuse),
            "remote_id": remote_id,
            "title": title,
            "starting_at": starting,
            "ending_at": ending,
            "location": self.location(mode),
            "video_conferencing_url": (
                f"https://meet.example.com/{self.rng.randint(100, 999)}-{remote_number}"
                if mode == "video"
                else None
            ),
            "application_id": application_id,
            "stage_id": self.rng.choice(stages) if self.rng.random() < 0.85 else None,
            "canceled": self.rng.choices((False, True, None), weights=(8, 1, 1))[0],
            "remote_created_at": created,
            "remote_updated_at": remote_updated,
            "remote_data": self.remote_data(remote_id, mode),
            "changed_at": changed,
            "remote_deleted_at": deleted,
            "users": [dict(u) for u in interviewers],
            "application": copy.deepcopy(application),
        }
        quirks: dict[int, Any] = {
            1: lambda p: p.update(location=None),
            2: lambda p: p.pop("location"),  # `location` is not required in the spec
            3: lambda p: p.update(location=dict.fromkeys(_LOCATION_KEYS)),
            4: lambda p: p.update(title=None),
            5: lambda p: p.update(starting_at=None, ending_at=None),
            6: lambda p: p.update(ending_at=None),
            7: lambda p: p.update(remote_id=None, remote_data=None),
            8: lambda p: p.update(stage_id=None, video_conferencing_url=None),
            9: lambda p: p.update(canceled=None),
            10: lambda p: p.update(remote_created_at=None, remote_updated_at=None),
            11: lambda p: p.update(title='<b>Panel</b> "Final" round \\ 🎉'),
            12: lambda p: p.update(users=[]),
        }
        if index in quirks:
            quirks[index](payload)
        for key, value in payload.items():
            if isinstance(value, datetime):
                payload[key] = format_timestamp(value)
        return payload, format_timestamp(updated)

    def build(self) -> tuple[tuple[dict[str, Any], str], ...]:
        users = self.users()
        jobs = self.jobs(users)
        stages = [self.new_id("stage") for _ in range(8)]
        candidates: list[dict[str, Any]] = []
        self.drawn_users, self.drawn_jobs, self.drawn_stages = users, jobs, stages
        self.drawn_candidates = candidates
        interviews: list[tuple[dict[str, Any], str]] = []
        app_index = orphans = 0
        while len(interviews) < self.shape.interviews:
            index = len(interviews)
            if (orphans < 2 and index >= 24) or (index >= 40 and self.rng.random() < 0.05):
                # An interview without its application: either none at all, or one Kombo
                # knows only by id (the application itself is outside the synced scope).
                known = orphans == 1 or (orphans > 1 and self.rng.random() < 0.5)
                known_id = self.new_id("application") if known else None
                interviews.append(self.interview(index, None, known_id, users, stages))
                orphans += 1
                continue
            if candidates and app_index >= len(_PINNED_CANDIDATES) and self.rng.random() < 0.2:
                candidate = self.rng.choice(candidates)  # a second application of one person
            else:
                candidate = self.candidate(len(candidates), users)
                candidates.append(candidate)
            application = self.application(app_index, candidate, jobs)
            self.drawn_applications.append(application)
            app_index += 1
            for _ in range(self.rng.choice((1, 2, 2, 3, 3, 4))):
                if len(interviews) == self.shape.interviews:
                    break
                index = len(interviews)
                interviews.append(
                    self.interview(index, application, application["id"], users, stages)
                )
        self.rng.shuffle(interviews)
        return tuple(interviews)
