"""The sandbox's interviews, prepared once per integration, and the filters that select them.

Filters combine with AND across parameters and OR within one list, as the spec says:

- ``ids`` match the interview's ``id``; ``remote_ids`` its ``remote_id`` (``null`` never
  matches); ``job_ids`` its ``application.job.id`` (no application or no job never matches).
  Values are compared verbatim (no trimming, case-sensitive).
- ``updated_after`` keeps interviews whose hidden ``updated_at`` (record *or* nested data
  changed) is **strictly after** the given instant (``>``).
- Deleted interviews (``remote_deleted_at`` set) are hidden unless ``include_deleted=true``.
- A filter the integration does not support (:data:`~gateway.sandbox.data.UNSUPPORTED_FILTERS`)
  empties the result, unless ``ignore_unsupported_filters=true``, which ignores it.

Results keep the upstream order of :func:`~gateway.sandbox.data.interviews_for`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.sandbox.data import interviews_for
from gateway.sandbox.params import LIST_PARAMETERS, Query

__all__ = ["Entry", "entries_for", "select"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One interview, serialized once, with what the filters look at."""

    json: bytes
    id: str
    remote_id: str | None
    job_id: str | None
    deleted: bool
    updated_at: datetime


def entries_for(integration_id: str) -> tuple[Entry, ...]:
    """The interviews of ``integration_id`` in upstream order, ready to filter and serve."""
    entries = []
    for interview in interviews_for(integration_id):
        payload = interview.payload
        job = (payload.get("application") or {}).get("job") or {}
        entries.append(
            Entry(
                json=json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode(),
                id=payload["id"],
                remote_id=payload["remote_id"],
                job_id=job.get("id"),
                deleted=payload["remote_deleted_at"] is not None,
                updated_at=datetime.fromisoformat(interview.updated_at),
            )
        )
    return tuple(entries)


def select(entries: Sequence[Entry], query: Query, unsupported: frozenset[str]) -> list[Entry]:
    """The entries ``query``'s filters keep, in order; ``unsupported`` names the filters the
    integration does not support."""
    lists = dict(query.lists)
    for name in unsupported & lists.keys():
        if not query.ignore_unsupported_filters:
            return []
        del lists[name]
    ids, remote_ids, job_ids = (lists.get(n) for n in LIST_PARAMETERS)
    after = query.updated_after
    return [
        e
        for e in entries
        if (query.include_deleted or not e.deleted)
        and (ids is None or e.id in ids)
        and (remote_ids is None or e.remote_id in remote_ids)
        and (job_ids is None or e.job_id in job_ids)
        and (after is None or e.updated_at > after)
    ]
