"""Typed payloads of ``GET /ats/interviews``: frozen dataclasses, one per object of Kombo's answer.

They are built by :mod:`gateway.kombo.parsing`, which reads Kombo's JSON tolerantly (README
"Resilience": malformed answers, unknown enum values).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any


class ApplicationOutcome(Enum):
    """Kombo's parsed status of an application."""

    PENDING = "PENDING"
    HIRED = "HIRED"
    DECLINED = "DECLINED"


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None
    country: str | None
    raw: str | None
    state: str | None
    street_1: str | None
    street_2: str | None
    zip_code: str | None


@dataclass(frozen=True, slots=True)
class User:
    id: str
    remote_id: str | None
    first_name: str | None
    last_name: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class EmailAddress:
    email_address: str | None
    type: str | None


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    remote_id: str
    first_name: str | None
    last_name: str | None
    email_addresses: tuple[EmailAddress, ...]


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    remote_id: str
    name: str | None


@dataclass(frozen=True, slots=True)
class Application:
    id: str
    remote_id: str | None
    outcome: ApplicationOutcome | None
    rejection_reason_name: str | None
    candidate: Candidate | None
    job: Job | None


@dataclass(frozen=True, slots=True)
class Interview:
    id: str
    remote_id: str | None
    title: str | None
    starting_at: datetime | None
    ending_at: datetime | None
    location: Location | None
    video_conferencing_url: str | None
    application_id: str | None
    stage_id: str | None
    canceled: bool | None
    remote_created_at: datetime | None
    remote_updated_at: datetime | None
    remote_data: dict[str, Any] | None
    changed_at: datetime
    remote_deleted_at: datetime | None
    users: tuple[User, ...]
    application: Application | None


@dataclass(frozen=True, slots=True)
class InterviewPage:
    """One upstream page: its results in upstream order and the cursor of the next page."""

    results: tuple[Interview, ...]
    next: str | None
