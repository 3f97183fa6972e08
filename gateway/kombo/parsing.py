"""Kombo's JSON read into the typed payloads of :mod:`gateway.kombo.models`, tolerantly.

Where the spec is loose we are too: an extra field is ignored, an unknown ``outcome`` becomes
``None`` (logged once per value, for the first :data:`MAX_LOGGED_UNKNOWN_VALUES` values), a
malformed optional timestamp becomes ``None``. What we cannot
do without (an object that is not an object, an interview without ``id`` or ``changed_at``) raises
:class:`~gateway.kombo.errors.KomboMalformedResponse` (README "Resilience": malformed answers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.models import (
    Application,
    ApplicationOutcome,
    Candidate,
    EmailAddress,
    Interview,
    InterviewPage,
    Job,
    Location,
    User,
)

log = logging.getLogger(__name__)


MAX_UPSTREAM_CURSOR_CHARS = 2048
"""Longest ``next`` cursor taken from Kombo; a longer one is a malformed answer. Kombo's are
opaque base64 of a few dozen characters. The gateway carries the cursor inside its own edge
cursors (at most 64 KiB; a character may take 12 bytes there, JSON-escaped), so a bound keeps
every upstream cursor carriable: before it, a 48 KiB ``next`` made edge cursors fail."""

MAX_LOGGED_UNKNOWN_VALUES = 100
"""Distinct unknown enum values logged per process; later ones are counted, not logged. Issue 8
measured 2 x 40,000 distinct values (a hostile or broken upstream): RSS 61 -> 127 MB and ~13 MB
of warnings per round when every one was remembered and logged."""
MAX_LOGGED_VALUE_CHARS = 200
"""An unknown value is logged (and remembered) by at most this much of its ``repr``."""


class _UnknownValues:
    """Unknown values of one enum field: each of the first ``limit`` distinct ones logged once,
    then one line saying further ones are not logged; memory bounded by ``limit``."""

    def __init__(self, what: str, limit: int = MAX_LOGGED_UNKNOWN_VALUES) -> None:
        self.what = what
        self.limit = limit
        self.seen: set[str] = set()
        self.unlogged = 0

    def note(self, value: object) -> None:
        key = repr(value)
        if len(key) > MAX_LOGGED_VALUE_CHARS:
            key = key[:MAX_LOGGED_VALUE_CHARS] + "..."
        if key in self.seen:
            return
        if len(self.seen) < self.limit:
            self.seen.add(key)
            log.warning("unknown %s %s from Kombo; exposed as null", self.what, key)
            return
        self.unlogged += 1
        if self.unlogged == 1:
            log.warning(
                "more than %d distinct unknown %s values from Kombo: further ones are exposed "
                "as null without being logged",
                self.limit,
                self.what,
            )


_unknown_outcomes = _UnknownValues("application outcome")


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise KomboMalformedResponse(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _optional_object(value: Any, where: str) -> Mapping[str, Any] | None:
    return None if value is None else _object(value, where)


def _required_str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise KomboMalformedResponse(f"{where}.{key}: expected a non-empty string")
    return value


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    # Numbers where strings are promised (remote ids, zip codes) are kept as text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parse_datetime(value: Any) -> datetime | None:
    """Kombo's ``2023-06-26T14:30:00.000Z`` (or any ISO-8601) as an aware datetime, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _outcome(value: Any) -> ApplicationOutcome | None:
    if value is None:
        return None
    try:
        return ApplicationOutcome(value)
    except ValueError:
        _unknown_outcomes.note(value)
        return None


def _location(raw: Any) -> Location | None:
    obj = _optional_object(raw, "location")
    if obj is None:
        return None
    return Location(
        city=_str(obj, "city"),
        country=_str(obj, "country"),
        raw=_str(obj, "raw"),
        state=_str(obj, "state"),
        street_1=_str(obj, "street_1"),
        street_2=_str(obj, "street_2"),
        zip_code=_str(obj, "zip_code"),
    )


def _user(raw: Any) -> User:
    obj = _object(raw, "users[]")
    return User(
        id=_required_str(obj, "id", "users[]"),
        remote_id=_str(obj, "remote_id"),
        first_name=_str(obj, "first_name"),
        last_name=_str(obj, "last_name"),
        email=_str(obj, "email"),
    )


def _candidate(raw: Any) -> Candidate | None:
    obj = _optional_object(raw, "application.candidate")
    if obj is None:
        return None
    emails = obj.get("email_addresses") or []
    if not isinstance(emails, list):
        raise KomboMalformedResponse("application.candidate.email_addresses: expected a list")
    return Candidate(
        id=_required_str(obj, "id", "application.candidate"),
        remote_id=_str(obj, "remote_id") or "",
        first_name=_str(obj, "first_name"),
        last_name=_str(obj, "last_name"),
        email_addresses=tuple(
            EmailAddress(email_address=_str(e, "email_address"), type=_str(e, "type"))
            for e in (_object(e, "email_addresses[]") for e in emails)
        ),
    )


def _job(raw: Any) -> Job | None:
    obj = _optional_object(raw, "application.job")
    if obj is None:
        return None
    return Job(
        id=_required_str(obj, "id", "application.job"),
        remote_id=_str(obj, "remote_id") or "",
        name=_str(obj, "name"),
    )


def _application(raw: Any) -> Application | None:
    obj = _optional_object(raw, "application")
    if obj is None:
        return None
    return Application(
        id=_required_str(obj, "id", "application"),
        remote_id=_str(obj, "remote_id"),
        outcome=_outcome(obj.get("outcome")),
        rejection_reason_name=_str(obj, "rejection_reason_name"),
        candidate=_candidate(obj.get("candidate")),
        job=_job(obj.get("job")),
    )


def parse_interview(raw: Any) -> Interview:
    """One element of ``data.results``."""
    obj = _object(raw, "interview")
    changed_at = parse_datetime(obj.get("changed_at"))
    if changed_at is None:
        raise KomboMalformedResponse("interview.changed_at: expected a date-time")
    users = obj.get("users") or []
    if not isinstance(users, list):
        raise KomboMalformedResponse("interview.users: expected a list")
    remote_data = obj.get("remote_data")
    canceled = obj.get("canceled")
    return Interview(
        id=_required_str(obj, "id", "interview"),
        remote_id=_str(obj, "remote_id"),
        title=_str(obj, "title"),
        starting_at=parse_datetime(obj.get("starting_at")),
        ending_at=parse_datetime(obj.get("ending_at")),
        location=_location(obj.get("location")),
        video_conferencing_url=_str(obj, "video_conferencing_url"),
        application_id=_str(obj, "application_id"),
        stage_id=_str(obj, "stage_id"),
        canceled=canceled if isinstance(canceled, bool) else None,
        remote_created_at=parse_datetime(obj.get("remote_created_at")),
        remote_updated_at=parse_datetime(obj.get("remote_updated_at")),
        remote_data=remote_data if isinstance(remote_data, dict) else None,
        changed_at=changed_at,
        remote_deleted_at=parse_datetime(obj.get("remote_deleted_at")),
        users=tuple(_user(u) for u in users),
        application=_application(obj.get("application")),
    )


def parse_interview_page(body: Any) -> InterviewPage:
    """The whole success body: ``{"status": "success", "data": {"next", "results"}}``."""
    obj = _object(body, "body")
    if obj.get("status") != "success":
        raise KomboMalformedResponse("body.status: expected 'success'")
    data = _object(obj.get("data"), "body.data")
    results = data.get("results")
    if not isinstance(results, list):
        raise KomboMalformedResponse("body.data.results: expected a list")
    next_cursor = data.get("next")
    if next_cursor is not None and (not isinstance(next_cursor, str) or not next_cursor):
        raise KomboMalformedResponse("body.data.next: expected a string or null")
    if next_cursor is not None and len(next_cursor) > MAX_UPSTREAM_CURSOR_CHARS:
        raise KomboMalformedResponse(
            f"body.data.next: a cursor of {len(next_cursor)} characters, more than the "
            f"{MAX_UPSTREAM_CURSOR_CHARS} taken"
        )
    return InterviewPage(results=tuple(parse_interview(r) for r in results), next=next_cursor)
