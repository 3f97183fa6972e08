"""The vocabulary of the catalog: what a Kombo model, field, value shape and query parameter are.

Plain frozen values, built once per process by :mod:`gateway.kombo.catalog.reading` from Kombo's
OpenAPI document; every layer above reads them and none writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ScalarKind = Literal["String", "ID", "DateTime", "Int", "Float", "Boolean", "JSON"]


@dataclass(frozen=True, slots=True)
class Scalar:
    """A leaf value: ``kind`` is the GraphQL scalar it becomes."""

    kind: ScalarKind


@dataclass(frozen=True, slots=True)
class EnumShape:
    """A closed set of values, spelled as Kombo spells them."""

    name: str
    values: tuple[str, ...]
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ListShape:
    """A JSON array; its items are never null in Kombo's answers."""

    item: Shape


@dataclass(frozen=True, eq=False)
class ObjectShape:
    """A JSON object with known fields: a model's record, an inline part of one, or a nested value.

    ``model`` names the Kombo model an object is a record of (whole or partial); ``id_from`` names
    the field of the *enclosing* object holding its id when the inline object carries none (an
    offer's ``application`` comes without ``id``; the offer's ``application_id`` is it).
    """

    name: str
    fields: tuple[Field, ...]
    description: str | None = None
    model: str | None = None
    id_from: str | None = None
    discriminator: tuple[str, str] | None = None
    """For a union member: the (nested) field path and the constant that select it."""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


@dataclass(frozen=True, eq=False)
class UnionShape:
    """One of several objects, told apart by a constant (``question.type`` = ``TEXT``…)."""

    name: str
    members: tuple[ObjectShape, ...]
    description: str | None = None


Shape = Scalar | EnumShape | ListShape | ObjectShape | UnionShape


@dataclass(frozen=True, eq=False)
class Field:
    """One field of an object: Kombo's snake_case name, its shape, and the spec's promises.

    ``nullable``: the value may be null. ``required``: the key is always present. ``known_values``:
    an open enum's documented values (the field itself is a ``String``).
    """

    name: str
    shape: Shape
    nullable: bool
    required: bool
    description: str | None = None
    known_values: tuple[str, ...] = ()
    deprecated: bool = False
    inline_only: bool = False
    """Not in the model's own endpoint, only where another record inlines it (a job's stage
    ``index``, a hiring team member's roles): never completed, null elsewhere."""


ParamKind = Literal["ids", "strings", "enums", "datetime", "boolean", "string"]


@dataclass(frozen=True, eq=False)
class Param:
    """One query parameter of an endpoint (``cursor`` and ``page_size`` are paging, not here).

    ``ids`` lists hold Kombo ids of ``model`` (the global ids of that type are accepted too);
    ``enums`` lists hold values of ``enum``; lists travel comma-joined.
    """

    name: str
    kind: ParamKind
    description: str | None = None
    model: str | None = None
    enum: EnumShape | None = None
    default: bool | None = None


@dataclass(frozen=True, slots=True)
class NestedChange:
    """One row of an endpoint's ``updated_after`` table: which nested data counts as a change."""

    path: str
    added_removed: bool
    linked_record: bool


@dataclass(frozen=True, eq=False)
class Reference:
    """An id field exposed as the record it names (``Interview.stage_id`` → ``stage``)."""

    field: str
    name: str
    model: str


@dataclass(frozen=True, eq=False)
class Model:
    """One Kombo model and its list endpoint."""

    name: str
    """The GraphQL type name: ``Interview``, ``ApplicationStage``…"""
    path: str
    """The endpoint: ``/ats/interviews``."""
    plural: str
    """The root connection's name: ``interviews``, ``applicationStages``…"""
    singular: str
    """The root lookup's name: ``interview``, ``applicationStage``…"""
    node_type: str
    """The ``NodeType`` value: ``INTERVIEW``, ``APPLICATION_STAGE``…"""
    shape: ObjectShape
    params: tuple[Param, ...]
    description: str | None = None
    nested_changes: tuple[NestedChange, ...] = ()
    references: tuple[Reference, ...] = field(default=())

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.path} has no parameter {name!r}")
