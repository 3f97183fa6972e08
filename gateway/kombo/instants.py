"""Kombo's date-times in the contract's answer form, normalized once per distinct upstream string.

The contract answers a ``DateTime`` as JavaScript's ``Date.prototype.toISOString()`` prints it,
``2023-06-26T14:30:00.000Z``: the instant in UTC to the millisecond (see
:mod:`gateway.schema.scalars`). Kombo sends its date-times in exactly that form, so parsing them
into a ``datetime`` and formatting them back (1.5 us a value) is wasted work (issue 12).

:func:`normalize` turns an upstream value into an :class:`Instant`, the answer string itself:

- a string in the exact form that is a real instant (checked by ``datetime.fromisoformat``, so
  ``2023-02-30T…`` is refused) is that string, unchanged;
- any other ISO-8601 string is parsed (no offset reads as UTC) and formatted by
  :func:`format_instant`, what the DateTime scalar answers for the parsed ``datetime``;
- anything else is ``None``.

Each distinct upstream string is normalized once per process (a bounded dict, :data:`MAX_CACHED`
strings): a page's repeated or re-fetched values cost a dict look-up. Measured on a loaded 2-core
box, parse + answer per value: before (``fromisoformat``, then formatting) ~1.9 us; a cache hit
~0.17 us; a miss ~1.1 us (``fromisoformat``, the regex, the ``Instant``, the insertion), so a page
of strings never seen before parses ~0.4 ms slower per 500 date-times and answers ~0.75 ms faster.
``bench/dates_micro.py`` measures a whole page.

The DateTime scalar passes an :class:`Instant` through as its answer and still formats
``datetime`` values; a plain ``str`` is not taken as already normalized. This module is a leaf
(the standard library only), so :mod:`gateway.kombo` and :mod:`gateway.schema` may both use it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

__all__ = ["MAX_CACHED", "Instant", "clear_cache", "format_instant", "is_exact", "normalize"]


class Instant(str):
    """A date-time already in the contract's answer form, ``2023-06-26T14:30:00.000Z``.

    Made only by :func:`normalize` (which checked or produced the form); the DateTime scalar
    answers it as is. It is a ``str`` for everything else (JSON, comparison, hashing)."""

    __slots__ = ()


_EXACT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
"""toISOString's form for years 0-9999, ASCII digits only (``\\d`` would take other scripts')."""


def is_exact(value: str) -> bool:
    """Whether ``value`` has toISOString's form (not whether it is a real date: see normalize)."""
    return _EXACT.fullmatch(value) is not None


_ONE_DAY = timedelta(days=1)


def _text(utc: datetime) -> str:
    # %-formatting beats an f-string, isoformat(timespec=...) and strftime (which does not pad
    # years before 1000 everywhere): 1.5 us a value against 2.1, 1.7 and more on the dev box.
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (  # noqa: UP031
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        utc.microsecond // 1000,
    )


def format_instant(value: datetime) -> str:
    """``2023-06-26T14:30:00.000Z``: ``value`` in UTC to the millisecond (truncated), as
    toISOString; a naive ``value`` is read as UTC. The two ends of Python's years that leave four
    digits once in UTC get toISOString's form too (``0000-12-31…``, ``+010000-01-01…``)."""
    offset = value.utcoffset()
    if not offset:  # UTC, +00:00 or naive
        return _text(value)
    try:
        return _text(value - offset)
    except OverflowError:
        # The instant is in year 0 or year 10000 (an offset is under a day): format the time a
        # day nearer, then write JavaScript's year for it.
        if offset > timedelta(0):
            return "0000-12-31" + _text(value + _ONE_DAY - offset)[10:]
        return "+010000-01-01" + _text(value - _ONE_DAY - offset)[10:]


MAX_CACHED: Final = 20_000
"""Distinct upstream strings remembered per process (~100 bytes each when Kombo's form, the
string being its own answer: ~2 MB when full). Past it the cache starts empty again."""

_cache: dict[str, Instant | None] = {}
_MISSING: Final = object()


def _normalized(value: str) -> Instant | None:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if _EXACT.fullmatch(value) is not None:
        return Instant(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return Instant(format_instant(parsed))


def normalize(value: Any) -> Instant | None:
    """The contract's answer for Kombo's date-time ``value``, or None when it is none."""
    if value.__class__ is not str:
        if isinstance(value, Instant):
            return value
        if not isinstance(value, str):
            return None
        value = str(value)
    cached = _cache.get(value, _MISSING)
    if cached is not _MISSING:
        return cached  # type: ignore[return-value]
    normalized = _normalized(value)
    if len(_cache) >= MAX_CACHED:
        # Start over rather than forget the oldest: ``del d[next(iter(d))]`` scans the deleted
        # slots at the front of the dict each time (4-9 us a value measured once full), and an
        # OrderedDict made every look-up slower. A page repeats its own strings within a request.
        _cache.clear()
    # Kombo's form is its own key: one string kept, not two.
    key: str = normalized if normalized is not None and normalized == value else value
    _cache[key] = normalized
    return normalized


def clear_cache() -> None:
    """Forget every normalized string (tests; memory measurements)."""
    _cache.clear()
