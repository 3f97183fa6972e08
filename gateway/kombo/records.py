"""Kombo's records as the gateway holds them: dicts keyed by Kombo's field names, typed by class.

Every object type of the catalog gets one :class:`Record` subclass (a ``dict``: Kombo's JSON,
checked and normalized by :mod:`gateway.kombo.parsing`, read by key with no copying). A model's
record comes in two classes: the whole record its own endpoint answers (``records.Job``), and the
part of it another record inlines (``records.PartialJob``: only the inlined fields are keys). What
a partial record lacks is completed from the model's endpoint by the layer above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.kombo.catalog import (
    CATALOG,
    ListShape,
    ObjectShape,
    Shape,
    UnionShape,
)


class Record(dict[str, Any]):
    """One object from Kombo. ``shape`` is its catalog shape; ``partial`` says whether it is a
    model's record inlined in another (then only the inlined fields are keys)."""

    __slots__ = ()
    shape: ClassVar[ObjectShape]
    type_name: ClassVar[str]
    model: ClassVar[str | None] = None
    partial: ClassVar[bool] = False


@dataclass(frozen=True, eq=False)
class RecordClasses:
    """The record classes of the catalog, by GraphQL type name."""

    whole: dict[str, type[Record]]
    """Type name → the class of its whole records (models, nested objects, union members)."""
    partial: dict[str, type[Record]]
    """Model name → the class of its inlined, partial records."""

    def of(self, shape: ObjectShape, *, inline: bool) -> type[Record]:
        """The class records of ``shape`` get: partial when a model's record is inlined."""
        if shape.model is not None and inline:
            return self.partial[shape.model]
        return self.whole[shape.name]

    def classes_of(self, type_name: str) -> tuple[type[Record], ...]:
        """Every class whose records are of GraphQL type ``type_name``."""
        whole = self.whole[type_name]
        partial = self.partial.get(type_name)
        return (whole,) if partial is None else (whole, partial)


def _objects(shape: Shape) -> Iterator[ObjectShape]:
    if isinstance(shape, ListShape):
        yield from _objects(shape.item)
    elif isinstance(shape, UnionShape):
        for member in shape.members:
            yield member
            for f in member.fields:
                yield from _objects(f.shape)
    elif isinstance(shape, ObjectShape):
        yield shape
        for f in shape.fields:
            yield from _objects(f.shape)


def _record_class(name: str, shape: ObjectShape, *, partial: bool) -> type[Record]:
    namespace = {
        "__slots__": (),
        "__module__": __name__,
        "shape": shape,
        "type_name": shape.name,
        "model": shape.model,
        "partial": partial,
    }
    return type(name, (Record,), namespace)


def _build() -> RecordClasses:
    whole: dict[str, type[Record]] = {}
    partial: dict[str, type[Record]] = {}
    for model in CATALOG:
        whole[model.name] = _record_class(model.name, model.shape, partial=False)
        partial[model.name] = _record_class(f"Partial{model.name}", model.shape, partial=True)
    for model in CATALOG:
        for shape in _objects(model.shape):
            if shape.model is None and shape.name not in whole:
                whole[shape.name] = _record_class(shape.name, shape, partial=False)
    return RecordClasses(whole, partial)


RECORDS = _build()


class Page:
    """One upstream page of one model: its records in upstream order, and the next cursor.

    ``items`` holds each record as the fast path reads it (issue 12): Kombo's decoded JSON
    object itself (a plain ``dict``) when reading it as a record could neither fail nor change
    its structure (:func:`gateway.kombo.parsing.parse_page` checked), else its :class:`Record`.
    ``results`` are all :class:`Record` s, the plain objects read on first use (``parse``).
    """

    __slots__ = ("_parse", "_results", "items", "next", "path")

    def __init__(
        self,
        path: str,
        results: tuple[Record, ...] = (),
        next: str | None = None,
        *,
        items: tuple[Any, ...] | None = None,
        parse: Callable[[Any], Record] | None = None,
    ) -> None:
        self.path = path
        """The endpoint it came from (``/ats/jobs``)."""
        self.next = next
        self.items: tuple[Any, ...] = results if items is None else items
        self._results: tuple[Record, ...] | None = results if items is None else None
        self._parse = parse

    @property
    def results(self) -> tuple[Record, ...]:
        results = self._results
        if results is None:
            parse = self._parse
            assert parse is not None
            results = self._results = tuple(
                parse(item) if item.__class__ is dict else item for item in self.items
            )
        return results

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Page):
            return NotImplemented
        return (self.path, self.results, self.next) == (other.path, other.results, other.next)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Page(path={self.path!r}, results={self.results!r}, next={self.next!r})"
