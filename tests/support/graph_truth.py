"""Ground truth for the gateway's root and nested connections, over every model of the catalog.

Computed from the sandbox's records (:func:`gateway.sandbox.records_for`: the exact upstream
payloads, in upstream order, and each one's ``updated_at``) with filter semantics written here by
hand from the spec's parameter descriptions (CONTRACT 1.2-1.4): nothing goes through the gateway's
schema, filters or Kombo client, nor through the sandbox's own filter engine. What a test sends is
a GraphQL filter (``{"jobIds": [...], "updatedAfter": "..."}``); what it gets from here is the
list of Kombo ids a correct answer holds, and the query parameters a correct gateway sends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import httpx

from gateway.kombo.catalog import Model, Param
from gateway.sandbox import (
    MODELS_NOT_AVAILABLE,
    UNSUPPORTED_FILTERS,
    SandboxRecord,
    records_for,
)
from tests.support.secret_scanning import API_KEY

Payload = Mapping[str, Any]
Filter = dict[str, Any]

GID_PREFIX = "gid://kombo/"
BOOLEAN_DEFAULTS = ("include_deleted", "ignore_unsupported_filters")
"""Boolean parameters whose absence means ``false``: sent as ``false`` or left out, the same."""


def gid(type_name: str, kombo_id: str) -> str:
    """The global id CONTRACT 1.3 spells: ``gid://kombo/<Type>/<Kombo id>`` (Kombo's ids are
    URL-safe, so nothing needs escaping)."""
    return f"{GID_PREFIX}{type_name}/{kombo_id}"


def bare(value: str) -> str:
    """The Kombo id a filter value names (a global id's last part, or the value itself)."""
    if value.startswith(GID_PREFIX):
        return unquote(value[len(GID_PREFIX) :].partition("/")[2])
    return value


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(camel_name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in camel_name)


def has_model(integration: str, model: Model) -> bool:
    return model.path not in MODELS_NOT_AVAILABLE.get(integration, frozenset())


def records(integration: str, model: str) -> list[SandboxRecord]:
    return records_for(integration, model)


def deleted(record: SandboxRecord) -> bool:
    return record.payload["remote_deleted_at"] is not None


def visible(integration: str, model: str) -> list[SandboxRecord]:
    """What an unfiltered list shows: the records not deleted, in upstream order."""
    return [r for r in records(integration, model) if not deleted(r)]


def kombo_ids(rs: list[SandboxRecord]) -> list[str]:
    return [r.payload["id"] for r in rs]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wire_datetime(text: str) -> str:
    """A DateTime input as the spec wants it upstream: UTC, ``YYYY-MM-DDTHH:mm:ss.sssZ``,
    sub-millisecond digits dropped."""
    utc = instant(text).astimezone(UTC)
    utc = utc.replace(microsecond=utc.microsecond // 1000 * 1000)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def shifted(text: str, *, ms: float = 0, offset_minutes: int = 0) -> str:
    """The instant ``text`` moved by ``ms`` milliseconds, written at UTC ``offset_minutes``."""
    moved = instant(text) + timedelta(milliseconds=ms)
    return moved.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()


# --- what each filter keeps ------------------------------------------------------------------


def linked_job_ids(model: str, p: Payload) -> set[str]:
    """The jobs a record belongs to, as ``job_ids`` reads it per endpoint: an interview's
    application's job, an application's job, the jobs a candidate applied to."""
    if model == "Interview":
        job = (p.get("application") or {}).get("job") or {}
        return {job["id"]} if job.get("id") else set()
    if model == "Application":
        found = {p["job_id"]} if p.get("job_id") else set()
        if (p.get("job") or {}).get("id"):
            found.add(p["job"]["id"])
        return found
    if model == "Candidate":
        return {
            a["job"]["id"] for a in p.get("applications") or [] if (a.get("job") or {}).get("id")
        }
    raise AssertionError(f"{model} has no job_ids filter")


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _in(field: str) -> Callable[[str, Payload, Any], bool]:
    return lambda model, p, values: p.get(field) is not None and p.get(field) in set(values)


def _utc_day(text: str) -> Any:
    return instant(text).astimezone(UTC).date()


KEEPS: dict[str, Callable[[str, Payload, Any], bool]] = {
    "ids": lambda model, p, values: p["id"] in {bare(v) for v in values},
    "remoteIds": _in("remote_id"),
    "jobIds": lambda model, p, values: bool(linked_job_ids(model, p) & {bare(v) for v in values}),
    "jobRemoteIds": lambda model, p, values: (p.get("job") or {}).get("remote_id") in set(values),
    "currentStageIds": lambda model, p, values: (
        p.get("current_stage_id") in {bare(v) for v in values}
    ),
    "outcomes": _in("outcome"),
    "statuses": _in("status"),
    "employmentTypes": _in("employment_type"),
    "visibilities": _in("visibility"),
    "scopes": _in("scope"),
    "jobCodes": _in("job_code"),
    "emails": lambda model, p, values: (
        p.get("email") is not None and p["email"].casefold() in {v.casefold() for v in values}
    ),
    "email": lambda model, p, value: any(
        _fold(e.get("email_address")) == value.casefold() for e in p.get("email_addresses") or []
    ),
    "firstName": lambda model, p, value: _fold(p.get("first_name")) == value.casefold(),
    "lastName": lambda model, p, value: _fold(p.get("last_name")) == value.casefold(),
    "postUrl": lambda model, p, value: p.get("post_url") == value,
    "nameContains": lambda model, p, value: (
        p.get("name") is not None and value.casefold() in p["name"].casefold()
    ),
    "remoteCreatedAfter": lambda model, p, value: (
        p.get("remote_created_at") is not None
        and _utc_day(p["remote_created_at"]) >= _utc_day(value)
    ),
}
"""Whether filter field ``name`` with ``value`` keeps the ``model`` record ``p`` (CONTRACT 1.2,
the spec's parameter descriptions): null matches nothing; lists are ORed."""


def expected(integration: str, model: str, flt: Filter | None = None) -> list[str]:
    """The Kombo ids ``<plural>(filter: flt)`` returns for ``integration``, in upstream order."""
    flt = dict(flt or {})
    include_deleted = bool(flt.pop("includeDeleted", False))
    ignore_unsupported = bool(flt.pop("ignoreUnsupportedFilters", False))
    after = flt.pop("updatedAfter", None)
    if any(isinstance(v, list) and not v for v in flt.values()):
        return []
    unsupported = UNSUPPORTED_FILTERS.get(integration, frozenset())
    for name in list(flt):
        if snake(name) in unsupported:
            if not ignore_unsupported:
                return []
            del flt[name]
    return [
        r.payload["id"]
        for r in records(integration, model)
        if (include_deleted or not deleted(r))
        and (after is None or instant(r.updated_at) > instant(wire_datetime(after)))
        and all(KEEPS[name](model, r.payload, value) for name, value in flt.items())
    ]


def upstream_params(
    model: Model, flt: Filter | None, page_size: int, cursor: str | None = None
) -> dict[str, str]:
    """The query parameters one page request must carry (booleans at their default left out:
    compare with :func:`normalized`)."""
    kinds = {camel(p.name): p for p in model.params}
    params: dict[str, str] = {}
    for name, value in (flt or {}).items():
        param: Param = kinds[name]
        if value is None:
            continue
        if param.kind == "boolean":
            params[param.name] = "true" if value else "false"
        elif param.kind == "datetime":
            params[param.name] = wire_datetime(value)
        elif param.kind == "ids":
            params[param.name] = ",".join(bare(v) for v in value)
        elif isinstance(value, list):
            params[param.name] = ",".join(value)
        else:
            params[param.name] = value
    params["page_size"] = str(page_size)
    if cursor is not None:
        params["cursor"] = cursor
    return normalized(params)


def normalized(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with the boolean parameters that say ``false`` (their default) left out."""
    return {k: v for k, v in params.items() if not (k in BOOLEAN_DEFAULTS and v == "false")}


# --- values to filter with -------------------------------------------------------------------


def list_fields(model: Model) -> list[str]:
    """The filter fields of ``model`` that take lists."""
    return [camel(p.name) for p in model.params if p.kind in ("ids", "strings", "enums")]


def id_fields(model: Model) -> list[tuple[str, str]]:
    """(filter field, model whose ids it takes) of ``model``'s id filters."""
    return [(camel(p.name), p.model or model.name) for p in model.params if p.kind == "ids"]


def enum_fields(model: Model) -> list[tuple[str, tuple[str, ...]]]:
    return [(camel(p.name), p.enum.values) for p in model.params if p.enum is not None]


def samples(integration: str, model: Model) -> list[Filter]:
    """Filters of one field each, for every filter field of ``model`` but the booleans and
    ``updatedAfter``: some values match, some do not; ids given both as global and bare ids."""
    name = model.name
    all_records = [r.payload for r in records(integration, name)]
    live = [p for p in all_records if p["remote_deleted_at"] is None]
    gone = [p for p in all_records if p["remote_deleted_at"] is not None]
    out: list[Filter] = []
    for param in model.params:
        field = camel(param.name)
        if param.kind == "boolean" or field == "updatedAfter":
            continue
        if field == "ids":
            picked = [gid(name, live[1]["id"]), live[3]["id"], gid(name, gone[0]["id"])]
            out.append({"ids": [*picked, "unknownId"]})
            out.append({"ids": picked, "includeDeleted": True})
            out.append({"ids": [live[-1]["id"]]})
        elif field == "remoteIds":
            remote = [p["remote_id"] for p in all_records if p.get("remote_id")]
            out.append({"remoteIds": [remote[2]]})
            out.append({"remoteIds": [*remote[4:7], "nope"]})
        elif field == "jobIds":
            jobs = _by_frequency([j for p in live for j in sorted(linked_job_ids(name, p))])
            out.append({"jobIds": [gid("Job", jobs[0])]})
            out.append({"jobIds": [jobs[1], gid("Job", jobs[2]), jobs[-1]]})
        elif field == "currentStageIds":
            stages = _by_frequency([p["current_stage_id"] for p in live if p["current_stage_id"]])
            out.append({"currentStageIds": [gid("ApplicationStage", stages[0])]})
            out.append({"currentStageIds": [stages[1], stages[-1]]})
        elif field == "jobRemoteIds":
            jobs = [p["remote_id"] for p in (r.payload for r in records(integration, "Job"))]
            out.append({"jobRemoteIds": [jobs[1]]})
            out.append({"jobRemoteIds": [jobs[2], jobs[3], "nope"]})
        elif param.enum is not None:
            values = list(param.enum.values)
            out += [{field: values[:1]}, {field: values[1:3]}, {field: values}]
        elif field == "jobCodes":
            codes = [p["job_code"] for p in live if p.get("job_code")]
            out += [{field: codes[:1]}, {field: [*codes[1:4], "JC-none"]}]
        elif field == "emails":
            emails = [p["email"] for p in live if p.get("email")]
            out += [{field: [emails[0].upper()]}, {field: [emails[1], "nobody@nowhere.example"]}]
        elif field == "email":
            emails = [
                e["email_address"]
                for p in live
                for e in p.get("email_addresses") or []
                if e.get("email_address")
            ]
            out += [{field: emails[3].upper()}, {field: emails[10].swapcase()}]
            out.append({field: "nobody@nowhere.example"})
        elif field in ("firstName", "lastName"):
            names = [p[param.name] for p in live if p.get(param.name)]
            out += [{field: names[5].upper()}, {field: names[9]}, {field: "Nobody"}]
        elif field == "postUrl":
            url = next(p["post_url"] for p in live if p.get("post_url"))
            out += [{field: url}, {field: "https://nowhere.example"}]
        elif field == "nameContains":
            out += [{field: "ENGINEER"}, {field: "(berlin)"}, {field: "zzz"}]
        elif field == "remoteCreatedAfter":
            created = sorted(p["remote_created_at"] for p in live if p.get("remote_created_at"))
            middle = created[len(created) // 2]
            out.append({field: middle})
            # Late and early in that UTC day, written at offsets whose local day differs.
            out.append({field: shifted(middle[:10] + "T23:30:00Z", offset_minutes=+120)})
            out.append({field: shifted(middle[:10] + "T00:30:00Z", offset_minutes=-300)})
        else:
            raise AssertionError(f"no samples for {name}.{field}")
    return out


def _by_frequency(values: list[str]) -> list[str]:
    """Distinct values, the most frequent first (ties in first-seen order)."""
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return sorted(counts, key=lambda v: -counts[v])


# --- the upstream, asked directly --------------------------------------------------------------

_clients: dict[str, httpx.Client] = {}


def upstream_next(sandbox_url: str, request: Mapping[str, Any]) -> str | None:
    """The ``next`` cursor the upstream answers ``request`` (an entry of the sandbox's request
    log) with, asked again directly: the sandbox's cursors are deterministic."""
    client = _clients.get(sandbox_url)
    if client is None:
        client = _clients[sandbox_url] = httpx.Client(base_url=sandbox_url, timeout=10)
    response = client.get(
        request["path"],
        params=request["params"],
        headers={
            "Authorization": f"Bearer {API_KEY}",
            "X-Integration-Id": request["integration_id"],
        },
    )
    response.raise_for_status()
    next_cursor = response.json()["data"]["next"]
    return None if next_cursor is None else str(next_cursor)
