"""GraphQL filter arguments → :class:`~gateway.kombo.query.InterviewQuery`, as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from gateway.kombo.query import InterviewQuery

MAX_FILTER_VALUES = 250
"""Most values one list filter takes: they travel comma-joined in the upstream URL."""


MAX_FILTER_VALUE_LENGTH = 200
"""Longest single filter value (Kombo ids are 24 characters; remote ids rarely pass 64)."""


class InvalidFilter(ValueError):
    """A filter value the upstream could not be asked for; the message says which and why."""


@strawberry.input(
    description=(
        "Filters of the interviews list. Fields combine with AND; the values inside one list "
        "combine with OR, exactly as Kombo's `GET /ats/interviews`. An empty list matches nothing."
    )
)
class InterviewFilter:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Only these Kombo interview ids (Kombo's `ids`)."
    )
    remote_ids: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only these ids of the remote ATS (Kombo's `remote_ids`).",
    )
    job_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Only interviews of applications to these Kombo job ids (Kombo's `job_ids`).",
    )
    updated_after: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Only interviews changed after this instant, the interview itself or its "
            "interviewers or application (Kombo's `updated_after`)."
        ),
    )
    include_deleted: bool | None = strawberry.field(
        default=False,
        description="Also return interviews deleted in the ATS (Kombo's `include_deleted`).",
    )
    ignore_unsupported_filters: bool | None = strawberry.field(
        default=False,
        description=(
            "Ignore filters the customer's ATS cannot apply instead of matching nothing "
            "(Kombo's `ignore_unsupported_filters`)."
        ),
    )


def _given(value: Any) -> Any:
    """An omitted input field (``UNSET``) means the same as an explicit null: no filter."""
    return None if value is UNSET else value


def _values(name: str, values: Sequence[str] | None) -> tuple[str, ...] | None:
    values = _given(values)
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidFilter(
            f"filter.{name} takes at most {MAX_FILTER_VALUES} values, got {len(values)}"
        )
    cleaned = []
    for value in values:
        if not value or not value.strip():
            raise InvalidFilter(f"filter.{name} contains an empty value")
        if len(value) > MAX_FILTER_VALUE_LENGTH:
            raise InvalidFilter(
                f"filter.{name} values are at most {MAX_FILTER_VALUE_LENGTH} characters long"
            )
        if "," in value:
            raise InvalidFilter(
                f"filter.{name} value {value!r} contains a comma, which Kombo cannot take"
            )
        cleaned.append(value)
    # Duplicates change nothing upstream (OR) but lengthen the URL.
    return tuple(dict.fromkeys(cleaned))


def filter_to_query(flt: InterviewFilter | None) -> InterviewQuery:
    """The upstream query for a connection's ``filter`` argument (``None``: no filter)."""
    if flt is None or flt is UNSET:
        return InterviewQuery()
    updated_after = _given(flt.updated_after)
    if updated_after is not None:
        if updated_after.tzinfo is None:
            raise InvalidFilter("filter.updatedAfter needs a UTC offset")
        try:
            updated_after.astimezone(UTC)
        except OverflowError:
            raise InvalidFilter(
                "filter.updatedAfter is out of range once converted to UTC"
            ) from None
    return InterviewQuery(
        ids=_values("ids", flt.ids),
        remote_ids=_values("remoteIds", flt.remote_ids),
        job_ids=_values("jobIds", flt.job_ids),
        updated_after=updated_after,
        include_deleted=bool(flt.include_deleted),
        ignore_unsupported_filters=bool(flt.ignore_unsupported_filters),
    )


def restrict_to_job(query: InterviewQuery, job_id: str) -> InterviewQuery:
    """``Job.interviews``: the same query, narrowed to one job.

    The job's id joins ``job_ids``; since a job's interviews can only be that job's, a ``jobIds``
    filter that names other jobs narrows to this one, and one that excludes it matches nothing.
    """
    if query.job_ids is None or job_id in query.job_ids:
        return replace(query, job_ids=(job_id,))
    return replace(query, job_ids=())
