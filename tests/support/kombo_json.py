"""Kombo's decoded JSON for every shape of the catalog, as hypothesis strategies: varied (nulls,
also where the spec promises none; unicode; date-times in several offsets; unknown enum values;
union members; keys left out) and now and then of a wrong type. The fast path's differential
test and the structure checks' test draw their upstream data from here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from gateway.kombo.catalog import (
    CATALOG,
    EnumShape,
    Field,
    ListShape,
    ObjectShape,
    Scalar,
    Shape,
    UnionShape,
)
from gateway.kombo.catalog.rules import ID_REFERENCES
from gateway.kombo.instants import format_instant

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
OPTIONAL_TEXT = st.none() | TEXT
ZONES = (
    UTC,
    timezone(timedelta(hours=2)),
    timezone(timedelta(hours=-9, minutes=-30)),
    timezone(timedelta(hours=5, minutes=45)),
)
DATETIMES = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.sampled_from(ZONES)
).flatmap(
    lambda d: st.sampled_from(
        [d, d.replace(microsecond=0), d.replace(microsecond=d.microsecond // 1000 * 1000)]
    )
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(TEXT, children, max_size=3),
    max_leaves=6,
)


def sometimes_wrong(value: st.SearchStrategy[Any], *wrong: Any) -> st.SearchStrategy[Any]:
    """``value``, or rarely one of ``wrong``: a value graphql-core must coerce, refuse or
    null-bubble (the fast path must give it back to graphql-core)."""
    if not wrong:
        return value
    return st.integers(0, 79).flatmap(lambda roll: st.sampled_from(wrong) if roll == 0 else value)


WRONG_VALUES = (None, 5, True, 1.5, "text", [], (None,), {"id": "x"})
"""Set on parsed records now and then: coerced, refused or null-bubbled by graphql-core."""

MODELS = tuple(CATALOG)
INTERVIEWS = CATALOG["Interview"]
RECORDS_PER_MODEL = 4


def pool(model: str) -> tuple[str, ...]:
    """The Kombo ids of a model's records upstream (unicode included)."""
    return (
        *tuple(f"{model.lower()}-{i}" for i in range(RECORDS_PER_MODEL - 1)),
        f"{model.lower()}-ö",
    )


def raw_datetime(value: datetime) -> str:
    return value.isoformat()


def raw_scalar(f: Field, kind: str) -> st.SearchStrategy[Any]:
    """Kombo's JSON for a scalar, now and then of a type that reading converts (numbers where
    text is promised, integral floats, integers for doubles) or drops (a bool for a number)."""
    if kind == "ID":
        model = ID_REFERENCES.get(f.name)
        return sometimes_wrong(st.sampled_from(pool(model)) if model else TEXT, 7, 2.5)
    if kind == "String":
        return sometimes_wrong(TEXT | st.sampled_from(f.known_values or ("x",)), 12, 0.5, True)
    if kind == "DateTime":
        # Kombo's own form (passed through), other offsets (normalized), and no date at all.
        return (
            DATETIMES.map(format_instant)
            | DATETIMES.map(raw_datetime)
            | st.sampled_from(["not a date", 20240101])
        )
    if kind == "Int":
        return sometimes_wrong(st.integers(-(2**40), 2**40), 3.0, 2.5, True, "4")
    if kind == "Float":
        return sometimes_wrong(st.floats(allow_nan=False, allow_infinity=False), 3, True, "4")
    if kind == "Boolean":
        return sometimes_wrong(st.booleans(), 1, "true")
    return JSON_VALUES


def raw_value(f: Field, shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    """Kombo's JSON for one field: nulls also where the spec promises none (rarely)."""
    if isinstance(shape, Scalar):
        value = raw_scalar(f, shape.kind)
    elif isinstance(shape, EnumShape):
        value = st.sampled_from(shape.values) | st.just("NEVER_DOCUMENTED")
    elif isinstance(shape, ListShape):
        value = st.lists(raw_value(f, shape.item, depth + 1), max_size=2 if depth < 3 else 0)
    elif isinstance(shape, UnionShape):
        value = st.sampled_from(shape.members).flatmap(lambda m: raw_member(m, depth + 1))
    else:
        assert isinstance(shape, ObjectShape)
        value = raw_object(shape, depth + 1)
    if f.nullable:
        return st.none() | value
    return sometimes_wrong(value, None)


@st.composite
def raw_object(draw: st.DrawFn, shape: ObjectShape, depth: int, own_id: str | None = None) -> Any:
    raw: dict[str, Any] = {}
    for f in shape.fields:
        if f.name == "id":
            raw["id"] = own_id or draw(
                st.sampled_from(pool(shape.model)) if shape.model else TEXT.map(lambda t: "n" + t)
            )
        elif f.name == "changed_at" and not f.nullable:
            raw["changed_at"] = draw(DATETIMES.map(raw_datetime))
        elif depth > 4 and f.nullable:
            raw[f.name] = None
        elif not f.required and draw(st.integers(0, 9)) == 0:
            continue  # an optional key left out
        elif draw(st.integers(0, 49)) == 0:
            continue  # a key the spec requires left out (the projection reads it by subscript)
        else:
            raw[f.name] = draw(raw_value(f, f.shape, depth))
    return raw


@st.composite
def raw_member(draw: st.DrawFn, member: ObjectShape, depth: int) -> Any:
    raw = draw(raw_object(member, depth))
    assert member.discriminator is not None
    path, const = member.discriminator
    outer, _, inner = path.partition(".")
    if inner:
        if not isinstance(raw.get(outer), dict):
            raw[outer] = {}
        raw[outer][inner] = const
    else:
        raw[outer] = const
    return raw
