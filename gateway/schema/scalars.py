"""The ``DateTime`` scalar (RFC 3339): answers in UTC with milliseconds, inputs with any offset.

Output is what JavaScript's ``Date.prototype.toISOString()`` gives for the same instant,
``2023-06-26T14:30:00.000Z``: converted to UTC, sub-millisecond digits truncated (as
:func:`gateway.kombo.query.format_updated_after` does for Kombo), years before 1000 zero-padded to
four digits. So a client may compare ``new Date(s).toISOString() === s`` and sort the strings.

Python's years are 1 to 9999, toISOString's up to 275760 either side of year 0, so every instant
has JavaScript's form. Only the two ends leave four-digit years once moved to UTC; they get
toISOString's form too rather than an error: ``0001-01-01T01:00:00+02:00`` answers
``0000-12-31T23:00:00.000Z`` and ``9999-12-31T23:00:00-05:00`` answers
``+010000-01-01T04:00:00.000Z`` (a signed six-digit year).

A datetime without a tzinfo is read as UTC, as the Kombo parser reads a date-time without offset.
Records hold their date-times as :class:`~gateway.kombo.instants.Instant` strings, already in this
form (the formatter is :func:`gateway.kombo.instants.format_instant`, shared with the parser).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strawberry.types.scalar import ScalarDefinition, scalar

from gateway.kombo.instants import Instant, format_instant

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339"


def serialize_datetime(value: datetime | Instant) -> str:
    """``2023-06-26T14:30:00.000Z``: the instant in UTC to the millisecond, as toISOString.

    An :class:`~gateway.kombo.instants.Instant` (a record's date-time, normalized once per
    distinct upstream string when parsed: issue 12) is that answer already and is passed through;
    a ``datetime`` is formatted (1.5 us a value). Nothing else is a DateTime, a plain ``str``
    included: only the parser vouches for a string's form."""
    if value.__class__ is Instant:
        return value
    if not isinstance(value, datetime):
        raise TypeError(f"DateTime cannot represent a non datetime value: {value!r}")
    return format_instant(value)


def parse_datetime_input(value: Any) -> datetime:
    """Client input: an ISO-8601 string *with* an offset; anything else is refused clearly."""
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string such as 2023-06-26T14:30:00+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"DateTime must be ISO-8601 such as 2023-06-26T14:30:00+00:00, got {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(
            f"DateTime needs a UTC offset (e.g. 'Z' or '+02:00') to be unambiguous, got {value!r}"
        )
    return parsed


DateTimeScalar: ScalarDefinition = scalar(
    name="DateTime",
    description=(
        "An instant (RFC 3339). Answers are in UTC to the millisecond, `2023-06-26T14:30:00.000Z`,"
        " as JavaScript's `Date.prototype.toISOString()` prints it. Inputs take any offset"
        " (`2023-06-26T16:30:00+02:00`, `…Z`), never none."
    ),
    serialize=serialize_datetime,
    parse_value=parse_datetime_input,
    specified_by_url=RFC_3339,
)
