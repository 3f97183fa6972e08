"""The query parameters of the sandbox's ``GET /ats/interviews``: parsed and checked as the spec
says, or refused with 400 ``PLATFORM.INPUT_INVALID`` and a message naming the parameter.

Refused: an unknown or repeated parameter; ``page_size`` not an integer in 1..250 (default
100); ``updated_after`` not matching
``^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?)?Z?$`` or not a real instant;
``include_deleted`` / ``ignore_unsupported_filters`` not exactly ``true`` or ``false``; ``ids`` /
``remote_ids`` / ``job_ids`` empty or with an empty entry (``a,,b``); a ``cursor`` that is
malformed, tampered with, or replayed with any other query parameter or integration
(:mod:`gateway.sandbox.cursors`).

``updated_after`` without ``Z`` is read as UTC; a date alone means midnight UTC; fractional
digits beyond microseconds are truncated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.sandbox.cursors import CursorCodec, InvalidCursor

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "LIST_PARAMETERS",
    "MAX_PAGE_SIZE",
    "PARAMETERS",
    "InputInvalid",
    "Query",
    "parse_query",
]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 250
PARAMETERS = (
    "cursor",
    "page_size",
    "updated_after",
    "include_deleted",
    "ignore_unsupported_filters",
    "ids",
    "remote_ids",
    "job_ids",
)
"""The query parameters of ``GET /ats/interviews``, and no others."""

LIST_PARAMETERS = ("ids", "remote_ids", "job_ids")
"""The comma-separated list filters, in the order :func:`gateway.sandbox.selection.select`
reads them."""

_UPDATED_AFTER = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?Z?", re.ASCII
)
_DIGITS = re.compile(r"[0-9]+")


class InputInvalid(Exception):
    """A request the spec rejects with 400 ``PLATFORM.INPUT_INVALID``."""


@dataclass(frozen=True, slots=True)
class Query:
    """One request's query parameters, parsed, with the offset its cursor carries."""

    page_size: int
    offset: int
    updated_after: datetime | None
    include_deleted: bool
    ignore_unsupported_filters: bool
    lists: Mapping[str, frozenset[str]]  # the list filters that were given
    binding: bytes  # what a cursor is bound to: integration and every non-cursor parameter


def _invalid(name: str, problem: str) -> InputInvalid:
    return InputInvalid(f"Invalid value for query parameter `{name}`: {problem}")


def _parse_page_size(raw: str) -> int:
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise _invalid("page_size", f"expected an integer from 1 to {MAX_PAGE_SIZE}, got {raw!r}.")
    return int(raw)


def _parse_updated_after(raw: str) -> datetime:
    match = _UPDATED_AFTER.fullmatch(raw)
    if match is None:
        raise _invalid("updated_after", f"expected YYYY-MM-DDTHH:mm:ss.sssZ, got {raw!r}.")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0")[:6].ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise _invalid("updated_after", f"{raw!r} is not a valid date and time ({exc}).") from exc


def _parse_bool(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _invalid(name, f"expected 'true' or 'false', got {raw!r}.")
    return raw == "true"


def _parse_list(name: str, raw: str) -> frozenset[str]:
    values = raw.split(",")
    if "" in values:
        raise _invalid(name, f"expected a comma-separated list of non-empty values, got {raw!r}.")
    return frozenset(values)


def _decode_cursor(cursors: CursorCodec, cursor: str, binding: bytes) -> int:
    try:
        return cursors.decode(cursor, binding)
    except InvalidCursor as exc:
        raise _invalid("cursor", str(exc)) from None


def parse_query(
    integration_id: str, items: Sequence[tuple[str, str]], cursors: CursorCodec
) -> Query:
    """The query of a request to ``integration_id``; :class:`InputInvalid` names what is wrong."""
    params: dict[str, str] = {}
    for name, value in items:
        if name not in PARAMETERS:
            raise InputInvalid(
                f"Unknown query parameter `{name}`. Accepted: {', '.join(PARAMETERS)}."
            )
        if name in params:
            raise InputInvalid(f"Query parameter `{name}` was given more than once.")
        params[name] = value

    bound = sorted((k, v) for k, v in params.items() if k != "cursor")
    binding = json.dumps([integration_id, bound], ensure_ascii=False).encode()
    page_size = params.get("page_size")
    updated_after = params.get("updated_after")
    cursor = params.get("cursor")
    return Query(
        page_size=DEFAULT_PAGE_SIZE if page_size is None else _parse_page_size(page_size),
        updated_after=None if updated_after is None else _parse_updated_after(updated_after),
        include_deleted=_parse_bool("include_deleted", params.get("include_deleted", "false")),
        ignore_unsupported_filters=_parse_bool(
            "ignore_unsupported_filters", params.get("ignore_unsupported_filters", "false")
        ),
        lists={n: _parse_list(n, params[n]) for n in LIST_PARAMETERS if n in params},
        binding=binding,
        offset=0 if cursor is None else _decode_cursor(cursors, cursor, binding),
    )
