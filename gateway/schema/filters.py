"""``<Type>Filter`` inputs, one per endpoint, and their translation to Kombo's query parameters.

Every field of a filter is one query parameter of the endpoint (CONTRACT 1.2, "Filters"), typed by
the catalog's parameter kind; :func:`filter_to_query` turns a filter into the
:class:`~gateway.kombo.ListQuery` sent upstream, as a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.unset import UNSET

from gateway.kombo import ListQuery
from gateway.kombo.catalog import CATALOG, Model, Param
from gateway.schema.ids import InvalidId, kombo_id_of

MAX_FILTER_VALUES = 250
"""Most values one list filter takes: they travel comma-joined in the upstream URL."""

MAX_FILTER_VALUE_LENGTH = 200
"""Longest single filter value (Kombo ids are 24 characters; remote ids rarely pass 64)."""

TYPE_NAMES = frozenset(m.name for m in CATALOG)


class InvalidFilter(ValueError):
    """A filter value the upstream could not be asked for; the message says which and why."""


def graphql_name(param: Param) -> str:
    head, *rest = param.name.split("_")
    return head + "".join(part.title() for part in rest)


def _given(value: Any) -> Any:
    """An omitted input field (``UNSET``) means the same as an explicit null: no filter."""
    return None if value is UNSET else value


def _values(name: str, values: Sequence[Any] | None) -> tuple[str, ...] | None:
    values = _given(values)
    if values is None:
        return None
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidFilter(
            f"filter.{name} takes at most {MAX_FILTER_VALUES} values, got {len(values)}"
        )
    cleaned = []
    for value in values:
        if isinstance(value, Enum):
            value = value.value
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


def _ids(name: str, values: tuple[str, ...] | None, type_name: str) -> tuple[str, ...] | None:
    if values is None:
        return None
    try:
        return tuple(dict.fromkeys(kombo_id_of(v, type_name, TYPE_NAMES) for v in values))
    except InvalidId as exc:
        raise InvalidFilter(f"filter.{name}: {exc}") from None


def _instant(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise InvalidFilter(f"filter.{name} needs a UTC offset")
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidFilter(f"filter.{name} is out of range once converted to UTC") from None
    return value


def _text(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise InvalidFilter(f"filter.{name} is empty")
    if len(value) > MAX_FILTER_VALUE_LENGTH:
        raise InvalidFilter(f"filter.{name} is at most {MAX_FILTER_VALUE_LENGTH} characters long")
    return value


def convert_param(param: Param, value: Any) -> Any:
    """One filter field's value as the query parameter's (``None``: not filtered on)."""
    name = graphql_name(param)
    value = _given(value)
    if param.kind == "boolean":
        return bool(value) if value is not None else None
    if param.kind == "datetime":
        return _instant(name, value)
    if param.kind == "string":
        return _text(name, value)
    values = _values(name, value)
    if param.kind == "ids":
        assert param.model is not None
        return _ids(name, values, param.model)
    return values


def filter_to_query(model: Model, flt: Any) -> ListQuery:
    """The upstream query for a connection's ``filter`` argument (``None``: no filter)."""
    if flt is None or flt is UNSET:
        return ListQuery.of(model, {})
    values: dict[str, Any] = {}
    for param in model.params:
        values[param.name] = convert_param(param, getattr(flt, param.name, None))
    return ListQuery.of(model, values)


def restrict(query: ListQuery, param: str, kombo_id: str) -> ListQuery:
    """A nested connection (``Job.interviews``): the same query, narrowed to one parent.

    The parent's id becomes the parameter's only value; a filter on that parameter that names
    other parents narrows to this one, and one that excludes it matches nothing.
    """
    current = query.get(param)
    if current is None or (isinstance(current, tuple) and kombo_id in current):
        return query.replace(param, (kombo_id,))
    return query.replace(param, ())


def filter_input(model: Model, enums: Mapping[str, type[Enum]]) -> type:
    """The ``<Type>Filter`` input of ``model``'s endpoint."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations, "__module__": __name__}
    for param in model.params:
        description = f"{param.description or ''}\n\nKombo's `{param.name}`.".strip()
        if param.kind == "boolean":
            annotations[param.name] = bool | None
            namespace[param.name] = strawberry.field(
                default=bool(param.default), description=description
            )
            continue
        annotations[param.name] = _input_type(param, enums)
        namespace[param.name] = strawberry.field(default=UNSET, description=description)
    cls = type(f"{model.name}Filter", (), namespace)
    return strawberry.input(
        cls,
        description=(
            f"Filters of `{model.plural}`, as Kombo's `GET {model.path}` takes them. Fields "
            "combine with AND; the values inside one list combine with OR. An empty list "
            "matches nothing."
        ),
    )


def _input_type(param: Param, enums: Mapping[str, type[Enum]]) -> Any:
    if param.kind == "ids":
        return list[strawberry.ID] | None
    if param.kind == "strings":
        return list[str] | None
    if param.kind == "enums":
        assert param.enum is not None
        enum = enums[param.enum.name]
        return list[enum] | None  # type: ignore[valid-type]
    if param.kind == "datetime":
        return datetime | None
    return str | None
