"""Kombo's JSON read into :mod:`gateway.kombo.records`, tolerantly, by the catalog's shapes.

Where the spec is loose we are too: an extra field is dropped, a value outside a closed enum
becomes ``None`` (logged once per value, for the first :data:`MAX_LOGGED_UNKNOWN_VALUES` values),
a malformed optional timestamp or number becomes ``None``, numbers where text is promised become
text. What we cannot do without (an object that is not an object, a list that is not a list, a
record without ``id``, a model record without ``changed_at``) raises
:class:`~gateway.kombo.errors.KomboMalformedResponse` (README "Resilience": malformed answers).
A required non-null value that is missing stays ``None``: the GraphQL field asking for it errors
alone, with its path, and the rest of the page answers.

A date-time becomes the contract's answer string, an :class:`~gateway.kombo.instants.Instant`
(``2023-06-26T14:30:00.000Z``; Kombo's own form kept as sent), normalized once per distinct
upstream string, not a ``datetime`` (issue 12).

One converter is compiled per object shape, once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from gateway.kombo.catalog import (
    EnumShape,
    Field,
    ListShape,
    Model,
    ObjectShape,
    Scalar,
    Shape,
    UnionShape,
)
from gateway.kombo.errors import KomboMalformedResponse
from gateway.kombo.instants import Instant, normalize
from gateway.kombo.records import RECORDS, Page, Record

log = logging.getLogger(__name__)

Convert = Callable[[Any, str], Any]

MAX_UPSTREAM_CURSOR_CHARS = 2048
"""Longest ``next`` cursor taken from Kombo; a longer one is a malformed answer. Kombo's are
opaque base64 of a few dozen characters. The gateway carries the cursor inside its own edge
cursors (at most 64 KiB; a character may take 12 bytes there, JSON-escaped), so a bound keeps
every upstream cursor carriable: before it, a 48 KiB ``next`` made edge cursors fail."""

MAX_LOGGED_UNKNOWN_VALUES = 100
"""Distinct unknown enum values logged per enum and process; later ones are counted, not logged.
Issue 8 measured 2 x 40,000 distinct values (a hostile or broken upstream): RSS 61 -> 127 MB and
~13 MB of warnings per round when every one was remembered and logged."""
MAX_LOGGED_VALUE_CHARS = 200
"""An unknown value is logged (and remembered) by at most this much of its ``repr``."""


class _UnknownValues:
    """Unknown values of one enum: each of the first ``limit`` distinct ones logged once, then
    one line saying further ones are not logged; memory bounded by ``limit``."""

    def __init__(self, what: str, limit: int = MAX_LOGGED_UNKNOWN_VALUES) -> None:
        self.what = what
        self.limit = limit
        self.seen: set[str] = set()
        self.unlogged = 0

    def note(self, value: object) -> None:
        key = repr(value)
        if len(key) > MAX_LOGGED_VALUE_CHARS:
            key = key[:MAX_LOGGED_VALUE_CHARS] + "..."
        if key in self.seen:
            return
        if len(self.seen) < self.limit:
            self.seen.add(key)
            log.warning("unknown %s value %s from Kombo; exposed as null", self.what, key)
            return
        self.unlogged += 1
        if self.unlogged == 1:
            log.warning(
                "more than %d distinct unknown %s values from Kombo: further ones are exposed "
                "as null without being logged",
                self.limit,
                self.what,
            )


_unknown: dict[str, _UnknownValues] = {}


def parse_datetime(value: Any) -> datetime | None:
    """Kombo's ``2023-06-26T14:30:00.000Z`` (or any ISO-8601) as an aware datetime, else None.

    Records keep their date-times as :class:`~gateway.kombo.instants.Instant` answer strings
    (:func:`~gateway.kombo.instants.normalize`); this reads one (or Kombo's text) as a datetime."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


# -- leaves -------------------------------------------------------------------------------


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    # Numbers where strings are promised (remote ids, zip codes) are kept as text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _int(value: Any, where: str) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _float(value: Any, where: str) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _bool(value: Any, where: str) -> bool | None:
    return value if isinstance(value, bool) else None


def _datetime(value: Any, where: str) -> Instant | None:
    # The contract's answer string, normalized once per distinct upstream string (issue 12).
    return normalize(value)


def _json(value: Any, where: str) -> Any:
    return value


_SCALARS: dict[str, Convert] = {
    "String": _text,
    "ID": _text,
    "Int": _int,
    "Float": _float,
    "Boolean": _bool,
    "DateTime": _datetime,
    "JSON": _json,
}


def _enum(shape: EnumShape) -> Convert:
    values = frozenset(shape.values)
    unknown = _unknown.setdefault(shape.name, _UnknownValues(shape.name))

    def convert(value: Any, where: str) -> str | None:
        if value is None:
            return None
        if value in values and isinstance(value, str):
            return value
        unknown.note(value)
        return None

    return convert


# -- compound -----------------------------------------------------------------------------


def _list(shape: ListShape, nullable: bool, inline: bool) -> Convert:
    item = _converter(shape.item, inline)
    drops_unknown = isinstance(shape.item, UnionShape | EnumShape)

    def convert(value: Any, where: str) -> tuple[Any, ...] | None:
        if value is None:
            return None if nullable else ()
        if not isinstance(value, list):
            raise KomboMalformedResponse(f"{where}: expected a list")
        inner = where + "[]"
        items = tuple(item(v, inner) for v in value)
        return tuple(v for v in items if v is not None) if drops_unknown else items

    return convert


def _union(shape: UnionShape) -> Convert:
    members: dict[str, tuple[str, str, Convert]] = {}
    for member in shape.members:
        assert member.discriminator is not None
        path, const = member.discriminator
        outer, _, inner = path.partition(".")
        members[const] = (outer, inner, _object(member, inline=False))
    unknown = _unknown.setdefault(shape.name, _UnknownValues(f"{shape.name} kind"))
    outer, inner, _ = next(iter(members.values()))

    def convert(value: Any, where: str) -> Record | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise KomboMalformedResponse(f"{where}: expected an object")
        tag = value.get(outer)
        if inner:
            tag = tag.get(inner) if isinstance(tag, Mapping) else None
        member = members.get(tag) if isinstance(tag, str) else None
        if member is None:
            unknown.note(tag)
            return None
        return member[2](value, where)

    return convert


def _field(f: Field, inline: bool) -> tuple[str, Convert, str | None]:
    """(key, converter, the sibling key holding the id of an inline record that has none)."""
    convert = _converter(f.shape, inline, nullable=f.nullable)
    if f.name == "id" and not f.nullable:
        return f.name, _required_id, None
    if f.name == "changed_at" and not f.nullable:
        return f.name, _required_datetime, None
    id_from = f.shape.id_from if isinstance(f.shape, ObjectShape) else None
    return f.name, convert, id_from


def _required_id(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        raise KomboMalformedResponse(f"{where}.id: expected a non-empty string")
    return value


def _required_datetime(value: Any, where: str) -> Instant:
    parsed = normalize(value)
    if parsed is None:
        raise KomboMalformedResponse(f"{where}.changed_at: expected a date-time")
    return parsed


def _object(shape: ObjectShape, inline: bool) -> Convert:
    """Records of ``shape``: a model's own record, or (``inline``) the part another inlines."""
    cls = RECORDS.of(shape, inline=inline)
    # A model's record read at its own endpoint has the model's fields; inlined, only its own.
    fields = [_field(f, inline=True) for f in fields_read(shape, inline)]
    where_name = shape.name

    def convert(value: Any, where: str) -> Record | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise KomboMalformedResponse(f"{where or where_name}: expected an object")
        here = where or where_name
        record = cls()
        for key, conv, id_from in fields:
            converted = conv(value.get(key), f"{here}.{key}")
            if id_from is not None and converted is not None and "id" not in converted:
                own_id = _text(value.get(id_from), here)
                converted = None if not own_id else _with_id(converted, own_id)
            record[key] = converted
        return record

    return convert


def _with_id(record: Record, record_id: str) -> Record:
    completed = type(record)(id=record_id)
    completed.update(record)
    return completed


_compiled: dict[tuple[int, bool], Convert] = {}


def _converter(shape: Shape, inline: bool, *, nullable: bool = True) -> Convert:
    if isinstance(shape, Scalar):
        return _SCALARS[shape.kind]
    if isinstance(shape, EnumShape):
        return _enum(shape)
    if isinstance(shape, ListShape):
        return _list(shape, nullable, inline)
    if isinstance(shape, UnionShape):
        return _union(shape)
    key = (id(shape), inline)
    convert = _compiled.get(key)
    if convert is None:
        # Placeholder first: shapes may nest records of their own model (never cyclically in
        # Kombo's spec, but cheap to allow).
        _compiled[key] = lambda value, where: _compiled[key](value, where)
        convert = _object(shape, inline)
        _compiled[key] = convert
    return convert


def record_parser(model: Model) -> Callable[[Any], Record]:
    """A function reading one element of ``data.results`` of ``model``'s endpoint."""
    convert = _converter(model.shape, inline=False, nullable=False)

    def parse(raw: Any) -> Record:
        record = convert(raw, model.name)
        if record is None:
            raise KomboMalformedResponse(f"{model.name}: expected an object, got null")
        return record  # type: ignore[no-any-return]

    return parse


_parsers: dict[str, Callable[[Any], Record]] = {}


def _parser(model: Model) -> Callable[[Any], Record]:
    parser = _parsers.get(model.name)
    if parser is None:
        parser = _parsers[model.name] = record_parser(model)
    return parser


def parse_record(model: Model, raw: Any) -> Record:
    """One element of ``data.results`` of ``model``'s endpoint."""
    return _parser(model)(raw)


def parse_page(model: Model, body: Any) -> Page:
    """The whole success body: ``{"status": "success", "data": {"next", "results"}}``."""
    if not isinstance(body, Mapping):
        raise KomboMalformedResponse(f"body: expected an object, got {type(body).__name__}")
    if body.get("status") != "success":
        raise KomboMalformedResponse("body.status: expected 'success'")
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise KomboMalformedResponse("body.data: expected an object")
    results = data.get("results")
    if not isinstance(results, list):
        raise KomboMalformedResponse("body.data.results: expected a list")
    next_cursor = data.get("next")
    if next_cursor is not None and (not isinstance(next_cursor, str) or not next_cursor):
        raise KomboMalformedResponse("body.data.next: expected a string or null")
    if next_cursor is not None and len(next_cursor) > MAX_UPSTREAM_CURSOR_CHARS:
        raise KomboMalformedResponse(
            f"body.data.next: a cursor of {len(next_cursor)} characters, more than the "
            f"{MAX_UPSTREAM_CURSOR_CHARS} taken"
        )
    parser = _parser(model)
    readable = _structure_checker(model.shape, inline=False)
    items = tuple(r if readable(r) else parser(r) for r in results)
    return Page(model.path, next=next_cursor, items=items, parse=parser)


# -- structure checks (issue 12) ----------------------------------------------------------
# The fast path projects Kombo's decoded JSON straight into the response, reading each value
# as it comes and handing anything not in its final form to graphql-core with the parsed record
# (:mod:`gateway.execution.projection`). What reading a record *refuses* (a list that is not a
# list, an object that is not one, a record without its id or ``changed_at``) must still fail
# the page at once, as parsing it would: a page's plain objects are checked for exactly those,
# cheaply (no copy, no conversion); an object that fails a check is parsed, which raises or
# converts it.

_Check = Callable[[Any], bool]
_checkers: dict[tuple[int, bool], _Check] = {}


def fields_read(shape: ObjectShape, inline: bool) -> list[Field]:
    """The fields a record of ``shape`` has as keys: a model's record read at its own endpoint
    lacks the fields only inlined copies carry (``inline_only``)."""
    return [f for f in shape.fields if not (f.inline_only and not inline)]


def _structure_checker(shape: ObjectShape, inline: bool) -> _Check:
    """A function telling whether a plain object of ``shape`` reads as a record without raising
    and without structural change (True), or must be parsed (False: it raises, or converts).

    Generated once per shape: one test per field that reading could refuse or reshape (scalars
    need none: the projection checks those it reads). The checks of nested objects are written
    inline, not called (an interview's application, its candidate, their lists: one call a
    record instead of seven); a union's, or a shape nested in itself, is called."""
    key = (id(shape), inline)
    checker = _checkers.get(key)
    if checker is not None:
        return checker
    _checkers[key] = lambda value: _checkers[key](value)  # see _converter
    writer = _CheckWriter()
    writer.lines += ["def check(value):", "    if value.__class__ is not dict: return False"]
    writer.fields(shape, inline, "value", 1, (id(shape),))
    writer.lines.append("    return True")
    source = "\n".join(writer.lines)
    exec(compile(source, f"<structure check of {shape.name}>", "exec"), writer.namespace)
    check = cast("_Check", writer.namespace["check"])
    _checkers[key] = check
    return check


class _CheckWriter:
    """The statements of one structure check, and the constants they name."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"_normalize": normalize}
        self._count = 0

    def constant(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def fields(
        self, shape: ObjectShape, inline: bool, obj: str, depth: int, path: tuple[int, ...]
    ) -> None:
        """Statements returning False when ``obj``, a dict, fails one of ``shape``'s tests."""
        pad = "    " * depth
        lines = self.lines
        for f in fields_read(shape, inline):
            v = self.name("v")
            read = f"{pad}{v} = {obj}.get({f.name!r})"
            inner = f.shape.item if isinstance(f.shape, ListShape) else None
            if f.name == "id" and not f.nullable:
                lines += [read, f"{pad}if {v}.__class__ is not str or not {v}: return False"]
            elif f.name == "changed_at" and not f.nullable:
                lines += [
                    read,
                    f"{pad}if {v}.__class__ is not str or _normalize({v}) is None: return False",
                ]
            elif isinstance(f.shape, ObjectShape):
                lines += [read, f"{pad}if {v} is not None:"]
                self.object(f.shape, v, depth + 1, path)
            elif isinstance(f.shape, UnionShape):
                test = self.constant(_union_checker(f.shape))
                lines += [read, f"{pad}if {v} is not None and not {test}({v}): return False"]
            elif isinstance(f.shape, EnumShape):
                # An unknown value is logged when read: read now, as the records were.
                values = self.constant(frozenset(f.shape.values))
                lines += [
                    read,
                    f"{pad}if {v} is not None and ({v}.__class__ is not str or {v} not in "
                    f"{values}):",
                    f"{pad}    return False",
                ]
            elif isinstance(f.shape, ListShape):
                x = self.name("x")
                lines += [
                    read,
                    f"{pad}if {v} is not None:",
                    f"{pad}    if {v}.__class__ is not list: return False",
                ]
                if isinstance(inner, ObjectShape):
                    lines += [f"{pad}    for {x} in {v}:", f"{pad}        if {x} is not None:"]
                    self.object(inner, x, depth + 3, path)
                elif isinstance(inner, UnionShape):
                    # Reading drops null and unknown members from the list: none here.
                    test = self.constant(_union_checker(inner))
                    lines += [
                        f"{pad}    for {x} in {v}:",
                        f"{pad}        if not {test}({x}): return False",
                    ]
                elif isinstance(inner, EnumShape):
                    values = self.constant(frozenset(inner.values))
                    lines += [
                        f"{pad}    for {x} in {v}:",
                        f"{pad}        if {x}.__class__ is not str or {x} not in {values}:",
                        f"{pad}            return False",
                    ]

    def object(self, shape: ObjectShape, var: str, depth: int, path: tuple[int, ...]) -> None:
        """Statements returning False unless ``var`` (not None) is a dict passing the tests of
        ``shape`` read inline; a shape already on ``path`` (nested in itself) is called."""
        pad = "    " * depth
        self.lines.append(f"{pad}if {var}.__class__ is not dict: return False")
        if id(shape) in path:
            test = self.constant(_structure_checker(shape, inline=True))
            self.lines.append(f"{pad}if not {test}({var}): return False")
        else:
            self.fields(shape, True, var, depth, (*path, id(shape)))


def _union_checker(shape: UnionShape) -> _Check:
    """Like :func:`_structure_checker` for a union's objects: its discriminated member's fields
    (an unknown member reads as None, no change in structure the projection does not see)."""
    members: dict[str, _Check] = {}
    for member in shape.members:
        assert member.discriminator is not None
        members[member.discriminator[1]] = _structure_checker(member, inline=False)
    outer, _, inner = next(iter(shape.members)).discriminator[0].partition(".")  # type: ignore[index]

    def check(value: Any) -> bool:
        if value.__class__ is not dict:
            return False
        tag = value.get(outer)
        if inner:
            tag = tag.get(inner) if tag.__class__ is dict else None
        member = members.get(tag) if tag.__class__ is str else None
        return member is not None and member(value)

    return check
