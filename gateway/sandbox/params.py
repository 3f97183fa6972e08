"""The query parameters of every sandbox endpoint: parsed and checked as the spec says, or refused
with 400 ``PLATFORM.INPUT_INVALID`` and a message naming the parameter.

An endpoint accepts ``cursor``, ``page_size``, its model's parameters
(:attr:`gateway.kombo.catalog.Model.params`) and the deprecated ones Kombo still takes
(:data:`DEPRECATED`), and nothing else. Values are checked by the parameter's kind:

- ``page_size``: an integer in 1..250 (default 100).
- ``datetime`` (``updated_after``, ``remote_created_after``): matching
  ``^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?)?Z?$`` and a real instant; without ``Z``
  read as UTC, a date alone is midnight UTC, digits beyond microseconds are truncated.
- ``boolean`` (``include_deleted``, ``ignore_unsupported_filters``): exactly ``true`` or
  ``false``.
- ``ids`` / ``strings`` (``remote_ids``, ``job_codes``, ``emails``…): a comma-separated list
  without empty entries (``a,,b`` is refused).
- ``enums`` (``outcomes``, ``statuses``…): such a list whose every entry is one of the spec's
  values (case-sensitive); the deprecated single-value ``outcome`` / ``status``: one such value.
- ``string`` (``email``, ``first_name``, ``post_url``, ``name_contains``…): not empty; ``email``
  must look like an address (``local@domain``).
- ``cursor``: one this endpoint issued for exactly these other parameters and this integration
  (:mod:`gateway.sandbox.cursors`).

An unknown or repeated parameter is refused too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.kombo.catalog import EnumShape, Model, Param
from gateway.sandbox.cursors import CursorCodec, InvalidCursor

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEPRECATED",
    "MAX_PAGE_SIZE",
    "InputInvalid",
    "Query",
    "accepted",
    "parse_query",
]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 250
DEPRECATED: Mapping[str, Mapping[str, str]] = {
    "/ats/applications": {"outcome": "outcomes"},
    "/ats/jobs": {"status": "statuses"},
}
"""Deprecated single-value parameters Kombo still accepts, by endpoint: the list parameter each
one stands for (the catalog leaves them out)."""

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?Z?", re.ASCII
)
_DIGITS = re.compile(r"[0-9]+")
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")


class InputInvalid(Exception):
    """A request the spec rejects with 400 ``PLATFORM.INPUT_INVALID``."""


@dataclass(frozen=True, slots=True)
class Query:
    """One request's query parameters, parsed, with the offset its cursor carries."""

    page_size: int
    offset: int
    include_deleted: bool
    ignore_unsupported_filters: bool
    updated_after: datetime | None
    filters: Mapping[str, Any]
    """The filters given, by parameter name (deprecated ones under their list's name, merged
    with it as an AND): lists as ``frozenset``, instants as ``datetime``, strings as given."""
    binding: bytes  # what a cursor is bound to: endpoint, integration, every other parameter


def accepted(model: Model) -> tuple[str, ...]:
    """The query parameters ``model``'s endpoint accepts."""
    return (
        "cursor",
        "page_size",
        *(p.name for p in model.params),
        *DEPRECATED.get(model.path, {}),
    )


def _invalid(name: str, problem: str) -> InputInvalid:
    return InputInvalid(f"Invalid value for query parameter `{name}`: {problem}")


def _page_size(raw: str) -> int:
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise _invalid("page_size", f"expected an integer from 1 to {MAX_PAGE_SIZE}, got {raw!r}.")
    return int(raw)


def _datetime(name: str, raw: str) -> datetime:
    match = _DATETIME.fullmatch(raw)
    if match is None:
        raise _invalid(name, f"expected YYYY-MM-DDTHH:mm:ss.sssZ, got {raw!r}.")
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
        raise _invalid(name, f"{raw!r} is not a valid date and time ({exc}).") from exc


def _bool(name: str, raw: str) -> bool:
    if raw not in ("true", "false"):
        raise _invalid(name, f"expected 'true' or 'false', got {raw!r}.")
    return raw == "true"


def _list(name: str, raw: str, enum: EnumShape | None = None) -> frozenset[str]:
    values = raw.split(",")
    if "" in values:
        raise _invalid(name, f"expected a comma-separated list of non-empty values, got {raw!r}.")
    if enum is not None:
        for value in values:
            if value not in enum.values:
                raise _invalid(name, f"{value!r} is not one of {', '.join(enum.values)}.")
    return frozenset(values)


def _string(name: str, raw: str) -> str:
    if raw == "":
        raise _invalid(name, "expected a non-empty value.")
    if name == "email" and not _EMAIL.fullmatch(raw):
        raise _invalid(name, f"expected an email address, got {raw!r}.")
    return raw


def _value(param: Param, raw: str) -> Any:
    if param.kind == "datetime":
        return _datetime(param.name, raw)
    if param.kind == "boolean":
        return _bool(param.name, raw)
    if param.kind in ("ids", "strings", "enums"):
        return _list(param.name, raw, param.enum)
    return _string(param.name, raw)


def parse_query(
    model: Model, integration_id: str, items: Sequence[tuple[str, str]], cursors: CursorCodec
) -> Query:
    """The query of a request to ``model``'s endpoint of ``integration_id``;
    :class:`InputInvalid` names what is wrong."""
    names = accepted(model)
    params: dict[str, str] = {}
    for name, value in items:
        if name not in names:
            raise InputInvalid(f"Unknown query parameter `{name}`. Accepted: {', '.join(names)}.")
        if name in params:
            raise InputInvalid(f"Query parameter `{name}` was given more than once.")
        params[name] = value

    page_size = params.get("page_size")
    size = DEFAULT_PAGE_SIZE if page_size is None else _page_size(page_size)
    values: dict[str, Any] = {}
    for param in model.params:
        raw = params.get(param.name)
        if raw is not None:
            values[param.name] = _value(param, raw)
    filters = {
        k: v
        for k, v in values.items()
        if k not in ("updated_after", "include_deleted", "ignore_unsupported_filters")
    }
    for old, new in DEPRECATED.get(model.path, {}).items():
        if old in params:
            single = _list(old, params[old], model.param(new).enum)
            if len(single) != 1:
                raise _invalid(old, f"expected one value, got {params[old]!r}.")
            filters[new] = filters.get(new, single) & single

    bound = sorted((k, v) for k, v in params.items() if k != "cursor")
    binding = json.dumps([model.path, integration_id, bound], ensure_ascii=False).encode()
    cursor = params.get("cursor")
    offset = 0
    if cursor is not None:
        try:
            offset = cursors.decode(cursor, binding)
        except InvalidCursor as exc:
            raise _invalid("cursor", str(exc)) from None
    return Query(
        page_size=size,
        offset=offset,
        include_deleted=values.get("include_deleted", False),
        ignore_unsupported_filters=values.get("ignore_unsupported_filters", False),
        updated_after=values.get("updated_after"),
        filters=filters,
        binding=binding,
    )
