"""The ``DateTime`` scalar: ISO-8601 with an offset, e.g. ``2023-06-26T14:30:00+00:00``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from strawberry.types.scalar import ScalarDefinition, scalar


def serialize_datetime(value: datetime) -> str:
    """Whole seconds print as ``…:00+00:00``; Kombo's millisecond precision is kept, not padded."""
    if value.microsecond and value.microsecond % 1000 == 0:
        return value.isoformat(timespec="milliseconds")
    return value.isoformat()


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
    description="An instant as ISO-8601 with a UTC offset, e.g. `2023-06-26T14:30:00+00:00`.",
    serialize=serialize_datetime,
    parse_value=parse_datetime_input,
)
