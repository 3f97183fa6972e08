"""What each endpoint's filters must return, computed from the records independently of
:mod:`gateway.sandbox.selection` (hand-written from the spec's parameter descriptions), and the
filter values the tests try."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.kombo.catalog import CATALOG, Param
from gateway.sandbox import records_for


def fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def listed(raw: str) -> set[str]:
    return set(raw.split(","))


def truth(model: str, name: str, raw: str, p: dict[str, Any]) -> bool:
    """Whether the filter ``name=raw`` keeps the ``model`` record ``p``."""
    if name == "ids":
        return p["id"] in listed(raw)
    if name == "remote_ids":
        return p.get("remote_id") is not None and p["remote_id"] in listed(raw)
    if name == "job_ids":
        if model == "Interview":
            job = (p["application"] or {}).get("job") or {}
            return job.get("id") in listed(raw)
        if model == "Application":
            return p["job_id"] in listed(raw)
        return any((a["job"] or {}).get("id") in listed(raw) for a in p["applications"])
    if name == "job_remote_ids":
        return p["job"] is not None and p["job"]["remote_id"] in listed(raw)
    if name == "current_stage_ids":
        return p["current_stage_id"] in listed(raw)
    if name in ("outcomes", "outcome"):
        return p["outcome"] in listed(raw)
    if name in ("statuses", "status"):
        return p.get("status") in listed(raw)
    if name == "employment_types":
        return p.get("employment_type") in listed(raw)
    if name == "visibilities":
        return p.get("visibility") in listed(raw)
    if name == "scopes":
        return p["scope"] in listed(raw)
    if name == "job_codes":
        return p["job_code"] in listed(raw)
    if name == "emails":
        return p.get("email") is not None and fold(p["email"]) in {fold(v) for v in listed(raw)}
    if name == "email":
        return any(
            fold(e.get("email_address")) == fold(raw) for e in p.get("email_addresses") or []
        )
    if name in ("first_name", "last_name"):
        return p[name] is not None and fold(p[name]) == fold(raw)
    if name == "post_url":
        return p["post_url"] == raw
    if name == "name_contains":
        return p["name"] is not None and fold(raw) in fold(p["name"])
    if name == "remote_created_after":
        created = p["remote_created_at"]
        return created is not None and created[:10] >= raw[:10]
    raise AssertionError(f"no truth for {name}")


def payloads(integration: str, model: str) -> list[dict[str, Any]]:
    return [r.payload for r in records_for(integration, model)]


def samples(integration: str, model: str, param: Param) -> list[str]:
    """Values to try for ``param`` on ``model``'s endpoint: some match, some do not."""
    records = payloads(integration, model)
    live = [p for p in records if p["remote_deleted_at"] is None]
    deleted = [p for p in records if p["remote_deleted_at"] is not None]
    name = param.name
    if name == "ids":
        return [",".join([*(p["id"] for p in live[1:4]), deleted[0]["id"], "unknownId"])]
    if name == "remote_ids":
        remote = [p["remote_id"] for p in records if p["remote_id"]]
        return [remote[2], ",".join([*remote[4:7], "nope"])]
    if param.kind == "ids":
        target = payloads(integration, param.model or model)
        return [target[0]["id"], ",".join(p["id"] for p in target[1:4])]
    if name == "job_remote_ids":
        jobs = payloads(integration, "Job")
        return [jobs[0]["remote_id"], f"{jobs[1]['remote_id']},{jobs[2]['remote_id']},nope"]
    if param.kind == "enums":
        assert param.enum is not None
        values = param.enum.values
        return [values[0], ",".join(values[1:3]), values[-1]]
    if name == "job_codes":
        codes = [p["job_code"] for p in records if p["job_code"]]
        return [codes[0], ",".join(codes[1:4])]
    if name == "emails":
        emails = [p["email"] for p in records if p.get("email")]
        return [emails[0].upper(), f"{emails[1]},nobody@nowhere.example"]
    if name == "email":
        emails = [e.get("email_address") for p in live for e in p.get("email_addresses") or []]
        emails = [e for e in emails if e]
        return [emails[3].upper(), emails[10].swapcase(), "nobody@nowhere.example"]
    if name in ("first_name", "last_name"):
        names = [p[name] for p in live if p[name]]
        return [names[5].upper(), names[9], "Nobody"]
    if name == "post_url":
        return [next(p["post_url"] for p in live if p["post_url"]), "https://nowhere.example"]
    if name == "name_contains":
        return ["ENGINEER", "e", "zzz"]
    if name == "remote_created_after":
        created = sorted(p["remote_created_at"] for p in records if p["remote_created_at"])
        middle = created[len(created) // 2]
        return [middle[:10], middle, f"{middle[:10]}T23:59:59"]
    if name == "updated_after":
        instants = sorted(r.updated_at for r in records_for(integration, model))
        return [instants[len(instants) // 2], instants[-1], "2020-01-01"]
    raise AssertionError(f"no samples for {name}")


def filter_params() -> list[tuple[str, Param]]:
    """(model, parameter) for every filter of every endpoint (not the booleans)."""
    return [
        (m.name, p)
        for m in CATALOG
        for p in m.params
        if p.kind != "boolean" and p.name != "updated_after"
    ]


def after(raw: str, updated_at: str) -> bool:
    """``updated_at`` strictly after ``raw`` (a date, or a date and time, UTC)."""
    text = raw if "T" in raw else f"{raw}T00:00:00"
    instant = datetime.fromisoformat(text.removesuffix("Z") + "+00:00")
    return datetime.fromisoformat(updated_at) > instant
