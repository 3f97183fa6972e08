"""The query parameters of ``GET /ats/interviews`` as one immutable value.

:class:`InterviewQuery` holds the filters; :meth:`InterviewQuery.to_params` renders them exactly as
the spec wants them on the wire. Page size and cursor travel beside it, because an upstream cursor
is only valid with the exact filters *and* page size that produced it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_PAGE_SIZE = 250
"""The spec's bound on ``page_size``."""


def format_updated_after(value: datetime) -> str:
    """``YYYY-MM-DDTHH:mm:ss.sssZ`` in UTC, as the spec asks (sub-millisecond digits truncated).

    Not ``strftime("%Y")``: it does not pad years before 1000 to four digits on every platform.
    """
    if value.tzinfo is None:
        raise ValueError("updated_after needs a timezone")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


@dataclass(frozen=True, slots=True)
class InterviewQuery:
    """Filters of ``GET /ats/interviews``: AND across fields, OR within one list (as upstream).

    ``None`` means "no filter on this field"; an empty tuple means "match nothing".
    """

    ids: tuple[str, ...] | None = None
    remote_ids: tuple[str, ...] | None = None
    job_ids: tuple[str, ...] | None = None
    updated_after: datetime | None = None
    include_deleted: bool = False
    ignore_unsupported_filters: bool = False

    @property
    def matches_nothing(self) -> bool:
        """True when a list filter is empty: no interview can match, so no request is needed."""
        return any(v is not None and len(v) == 0 for v in (self.ids, self.remote_ids, self.job_ids))

    def to_params(self) -> dict[str, str]:
        """The filters as query parameters, in a stable order; defaults are sent explicitly."""
        params: dict[str, str] = {}
        if self.ids is not None:
            params["ids"] = ",".join(self.ids)
        if self.remote_ids is not None:
            params["remote_ids"] = ",".join(self.remote_ids)
        if self.job_ids is not None:
            params["job_ids"] = ",".join(self.job_ids)
        if self.updated_after is not None:
            params["updated_after"] = format_updated_after(self.updated_after)
        params["include_deleted"] = "true" if self.include_deleted else "false"
        params["ignore_unsupported_filters"] = (
            "true" if self.ignore_unsupported_filters else "false"
        )
        return params

    def digest(self) -> str:
        """A short fingerprint of the rendered filters: equal exactly when the params are equal.

        JSON, not ``k=v&…``: values may contain ``&`` and ``=``, which made distinct params collide.
        """
        rendered = json.dumps(sorted(self.to_params().items()), separators=(",", ":"))
        return hashlib.sha256(rendered.encode()).hexdigest()[:16]


def page_params(query: InterviewQuery, page_size: int, cursor: str | None) -> dict[str, str]:
    """Everything one upstream page request sends: filters, ``page_size`` and maybe ``cursor``."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    params = query.to_params()
    params["page_size"] = str(page_size)
    if cursor is not None:
        params["cursor"] = cursor
    return params
