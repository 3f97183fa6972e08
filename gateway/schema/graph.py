"""The graph's types, made from the catalog: one Strawberry type per Kombo object shape.

Nothing here names a Kombo field: every enum, object, union, model type, filter input and
connection comes from :data:`gateway.kombo.catalog.CATALOG` by the rules of CONTRACT 1.2. The
types are created in this module's namespace, so that their annotations (strings such as
``"list[Application] | None"``) resolve here whatever order they were made in.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime  # noqa: F401 - read by the string annotations
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON  # noqa: F401 - read by the string annotations

from gateway.kombo import RECORDS
from gateway.kombo.catalog import (
    CATALOG,
    EnumShape,
    Field,
    ListShape,
    Model,
    ObjectShape,
    Scalar,
    Shape,
    UnionShape,
)
from gateway.kombo.catalog.rules import NESTED_CONNECTION_PARAMS
from gateway.schema.connection import Connection, Edge, connection_types, resolve_connection
from gateway.schema.fields import global_id_resolver, reference_resolver, value_resolver
from gateway.schema.filters import filter_input

MODULE = __name__
_namespace = sys.modules[__name__].__dict__


KOMBO_ID = (
    "Kombo's own id, verbatim: what Kombo's REST API, its webhooks and your backend use. "
    "Unique within this type only; `id` is unique across types."
)
GLOBAL_ID = "The global id, unique across all types: `gid://kombo/<Type>/<Kombo id>`."

_SCALAR_ANNOTATIONS = {
    "String": "str",
    "ID": "strawberry.ID",
    "DateTime": "datetime",
    "Int": "int",
    "Float": "float",
    "Boolean": "bool",
    "JSON": "JSON",
}


@strawberry.interface(
    description=(
        "A record that can be fetched again by its global `id` with `node`/`nodes`: every Kombo "
        "model is one."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(description=GLOBAL_ID)


def _register(name: str, value: Any) -> Any:
    if name in _namespace and _namespace[name] is not value:
        raise ValueError(f"two GraphQL types named {name}")
    _namespace[name] = value
    return value


def _shapes(shape: Shape) -> Iterator[Shape]:
    yield shape
    if isinstance(shape, ListShape):
        yield from _shapes(shape.item)
    elif isinstance(shape, UnionShape):
        for member in shape.members:
            yield from _shapes(member)
    elif isinstance(shape, ObjectShape):
        for f in shape.fields:
            yield from _shapes(f.shape)


def _every_shape() -> Iterator[Shape]:
    for model in CATALOG:
        yield from _shapes(model.shape)
        for param in model.params:
            if param.enum is not None:
                yield param.enum


def _annotation(shape: Shape, nullable: bool) -> str:
    if isinstance(shape, Scalar):
        text = _SCALAR_ANNOTATIONS[shape.kind]
    elif isinstance(shape, ListShape):
        text = f"list[{_annotation(shape.item, False)}]"
    elif isinstance(shape, ObjectShape):
        text = shape.model or shape.name
    else:
        text = shape.name
    return f"{text} | None" if nullable else text


def _description(f: Field) -> str:
    text = (f.description or "").strip() or f"Kombo's `{f.name}`."
    if f.known_values:
        text += " Known values: " + ", ".join(f"`{v}`" for v in f.known_values) + "."
    if f.inline_only:
        text += " Only where another record inlines this one; null elsewhere."
    return text


def _field(f: Field, *, completes: bool) -> Any:
    return strawberry.field(
        resolver=_typed(
            value_resolver(f.name, completes=completes), _annotation(f.shape, f.nullable)
        ),
        description=_description(f),
        deprecation_reason=f.description if f.deprecated else None,
    )


def _typed(function: Any, annotation: Any) -> Any:
    """Give a generated resolver its GraphQL type (a string resolved in this module)."""
    function.__annotations__ = {"info": strawberry.Info, "return": annotation}
    function.__module__ = MODULE
    return function


def _is_type_of(classes: tuple[type, ...]) -> Any:
    def is_type_of(cls: type, obj: Any, _info: Any) -> bool:
        return obj.__class__ in classes

    return classmethod(is_type_of)


# -- enums ----------------------------------------------------------------------------------


def _make_enums() -> dict[str, type[Enum]]:
    enums: dict[str, type[Enum]] = {}
    for shape in _every_shape():
        if isinstance(shape, EnumShape) and shape.name not in enums:
            python = Enum(shape.name, [(v, v) for v in shape.values], module=MODULE)  # type: ignore[misc]
            enums[shape.name] = _register(
                shape.name,
                strawberry.enum(python, description=shape.description or f"Kombo's {shape.name}."),
            )
    return enums


# -- objects and unions ---------------------------------------------------------------------


def _make_object(shape: ObjectShape) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": MODULE, "__annotations__": annotations}
    for f in shape.fields:
        annotations[f.name] = _annotation(f.shape, f.nullable)
        namespace[f.name] = _field(f, completes=False)
    namespace["is_type_of"] = _is_type_of(RECORDS.classes_of(shape.name))
    cls = type(shape.name, (), namespace)
    return _register(
        shape.name, strawberry.type(cls, description=shape.description or f"{shape.name}.")
    )


def _make_nested() -> None:
    for shape in _every_shape():
        if isinstance(shape, UnionShape) and shape.name not in _namespace:
            members = tuple(_make_object(m) for m in shape.members)
            union = Annotated[  # type: ignore[valid-type]
                members[0] if len(members) == 1 else _union(members),
                strawberry.union(
                    shape.name,
                    # The spec describes neither union (screening questions' formats and
                    # answers): GraphiQL's docs still say what one is.
                    description=shape.description
                    or f"{shape.name}: one member type per kind; `__typename` tells which.",
                ),
            ]
            _register(shape.name, union)
        elif (
            isinstance(shape, ObjectShape) and shape.model is None and shape.name not in _namespace
        ):
            _make_object(shape)


def _union(members: tuple[type, ...]) -> Any:
    union: Any = members[0]
    for member in members[1:]:
        union = union | member
    return union


# -- models ---------------------------------------------------------------------------------


def _model_description(model: Model) -> str:
    return (
        f"A {model.name} record from Kombo's `GET {model.path}`. Where another record inlines part "
        "of it, asking for more completes it, batched per model (one `ids=` call per 250)."
    )


def _make_model(model: Model, connections: dict[str, tuple[type, type, type]]) -> type:
    annotations: dict[str, Any] = {"id": strawberry.ID, "kombo_id": strawberry.ID}
    namespace: dict[str, Any] = {
        "__module__": MODULE,
        "__annotations__": annotations,
        "id": strawberry.field(
            resolver=_typed(global_id_resolver(model.name), strawberry.ID), description=GLOBAL_ID
        ),
        "kombo_id": strawberry.field(
            resolver=_typed(value_resolver("id", completes=False), strawberry.ID),
            description=KOMBO_ID,
        ),
    }
    for f in model.shape.fields:
        if f.name == "id":
            continue
        annotations[f.name] = _annotation(f.shape, f.nullable)
        namespace[f.name] = _field(f, completes=not f.inline_only)
    for ref in model.references:
        annotations[ref.name] = f"{ref.model} | None"
        namespace[ref.name] = strawberry.field(
            resolver=_typed(reference_resolver(ref.field, ref.model), f"{ref.model} | None"),
            description=f"The {ref.model} that `{ref.field}` names, looked up by id (batched).",
        )
    for child in CATALOG:
        for param in child.params:
            if param.name in NESTED_CONNECTION_PARAMS and param.model == model.name:
                annotations[child.plural] = f"{child.name}Connection"
                namespace[child.plural] = _nested_connection(child, param.name, connections)
    namespace["is_type_of"] = _is_type_of(RECORDS.classes_of(model.name))
    cls = type(model.name, (Node,), namespace)
    return _register(model.name, strawberry.type(cls, description=_model_description(model)))


def connection_resolver(
    model: Model, parts: tuple[type, type, type], parent_param: str | None
) -> Any:
    """The resolver of a connection field over ``model``'s endpoint (root, or nested under the
    record that ``parent_param`` names)."""
    edge, connection, filter_type = parts

    async def resolve(
        root: Any,
        info: strawberry.Info,
        first: int | None = 100,
        after: str | None = strawberry.UNSET,
        filter: Any = strawberry.UNSET,
    ) -> Connection:
        parent = None if parent_param is None else (parent_param, root["id"])
        return await resolve_connection(
            info, model, connection, edge, first=first, after=after, flt=filter, parent=parent
        )

    resolve.__annotations__ = {
        "info": strawberry.Info,
        "first": Annotated[
            int | None,
            strawberry.argument(
                description="How many records, 1 to 250 (one upstream page of that size)."
            ),
        ],
        "after": Annotated[
            str | None,
            strawberry.argument(description="Resume after the edge with this cursor (any edge's)."),
        ],
        "filter": Annotated[
            filter_type | None,  # type: ignore[operator]
            strawberry.argument(description="Filters, as Kombo's query parameters."),
        ],
        "return": connection,
    }
    resolve.__module__ = MODULE
    return resolve


def _nested_connection(
    child: Model, param: str, connections: dict[str, tuple[type, type, type]]
) -> Any:
    return strawberry.field(
        resolver=connection_resolver(child, connections[child.name], param),
        description=(
            f"This record's {child.plural}: the same connection as `Query.{child.plural}`, with "
            f"this record's id as the filter's `{param}`. One upstream request per page."
        ),
    )


def _make_graph() -> tuple[dict[str, type], dict[str, tuple[type, type, type]]]:
    enums = _make_enums()
    _make_nested()
    connections: dict[str, tuple[type, type, type]] = {}
    for model in CATALOG:
        edge, connection = connection_types(model, MODULE)
        _register(edge.__name__, edge)
        _register(connection.__name__, connection)
        filter_type = _register(f"{model.name}Filter", filter_input(model, enums))
        connections[model.name] = (edge, connection, filter_type)
    types = {model.name: _make_model(model, connections) for model in CATALOG}
    return types, connections


MODEL_TYPES, CONNECTIONS = _make_graph()
"""Model name → its GraphQL type; model name → (edge, connection, filter input) types."""

EDGE_CLASSES: tuple[type[Edge], ...] = tuple(parts[0] for parts in CONNECTIONS.values())
CONNECTION_CLASSES: tuple[type[Connection], ...] = tuple(parts[1] for parts in CONNECTIONS.values())

__all__ = [
    "CONNECTIONS",
    "CONNECTION_CLASSES",
    "EDGE_CLASSES",
    "MODEL_TYPES",
    "Node",
    "connection_resolver",
]
