"""Ground truth computed from the sandbox's own data, independently of the gateway and the sandbox's
filter code: what a correct answer must contain."""

from __future__ import annotations

from typing import Any

from gateway.sandbox.data import SandboxInterview, interviews_for


def visible(integration: str) -> list[SandboxInterview]:
    """Non-deleted interviews in upstream order (what a list without includeDeleted shows)."""
    return [i for i in interviews_for(integration) if i.payload["remote_deleted_at"] is None]


def ids(records: list[SandboxInterview]) -> list[str]:
    return [r.payload["id"] for r in records]


def job_id(payload: dict[str, Any]) -> str | None:
    application = payload.get("application") or {}
    job = application.get("job") or {}
    return job.get("id")
