"""Ground truth computed from the sandbox's own data, independently of the gateway and the sandbox's
filter code: what a correct answer must contain."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from gateway.sandbox.data import SandboxInterview, interviews_for


def visible(integration: str) -> list[SandboxInterview]:
    """Non-deleted interviews in upstream order (what a list without includeDeleted shows)."""
    return [i for i in interviews_for(integration) if i.payload["remote_deleted_at"] is None]


def ids(records: list[SandboxInterview]) -> list[str]:
    """Kombo's ids of ``records`` (what ``komboId`` holds and Kombo's ``ids=`` takes)."""
    return [r.payload["id"] for r in records]


def gid(kombo_id: str, type_name: str = "Interview") -> str:
    """The global id the gateway must answer in ``id`` for the record with this Kombo id, as the
    contract spells it (CONTRACT 1.3), not as the gateway computes it. The sandbox's ids are
    URL-safe, so none needs the percent-encoding the gateway gives other characters."""
    assert kombo_id.isalnum(), kombo_id
    return f"gid://kombo/{type_name}/{kombo_id}"


def answered_datetime(value: str | datetime) -> str:
    """The ``DateTime`` answer for an instant, as CONTRACT 1.1 spells it and JavaScript's
    ``Date.prototype.toISOString()`` prints it (not as the gateway computes it): UTC, three
    fraction digits, sub-millisecond digits truncated, ``Z``. A naive instant is UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def gids(records: list[SandboxInterview]) -> list[str]:
    """The global ids of ``records`` (what the gateway answers in ``id``)."""
    return [gid(r.payload["id"]) for r in records]


def job_id(payload: dict[str, Any]) -> str | None:
    application = payload.get("application") or {}
    job = application.get("job") or {}
    return job.get("id")
