"""The root ``Query``: a connection and a lookup per model, and ``node``/``nodes``.

Made from the catalog like the types (:mod:`gateway.schema.graph`): ``<plural>(first, after,
filter)`` and ``<singular>(id)`` for each of the ten models (CONTRACT 1.2), every id lookup of a
request batched per model by the upstream loaders.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any

import strawberry

from gateway.errors import BadUserInput
from gateway.kombo import Record
from gateway.kombo.catalog import CATALOG, Model
from gateway.schema.graph import CONNECTIONS, MODEL_TYPES, MODULE, Node, connection_resolver
from gateway.schema.ids import InvalidId, kombo_id_of, parse_global_id
from gateway.schema.request_context import GatewayContext

MAX_NODES = 1000
"""Most ids one ``nodes`` call takes (sent upstream in chunks of 250 per model)."""

TYPE_NAMES = frozenset(m.name for m in CATALOG)
LEGACY_NODE_TYPE = "Interview"
"""A bare Kombo id given to ``node``/``nodes`` is an interview's, as in v1 (CONTRACT 1.3)."""


def _load(info: strawberry.Info, type_name: str, kombo_id: str) -> Awaitable[Record | None]:
    ctx: GatewayContext = info.context
    return ctx.upstream.loader(type_name).load(kombo_id)


def node_key(text: str, argument: str) -> tuple[str, str]:
    """(type, Kombo id) of an id given to ``node``/``nodes``; a clear error when it is none."""
    try:
        parsed = parse_global_id(text, TYPE_NAMES)
        if parsed is None:
            return LEGACY_NODE_TYPE, kombo_id_of(text, LEGACY_NODE_TYPE, TYPE_NAMES)
        return parsed
    except InvalidId as exc:
        raise BadUserInput(f"{argument}: {exc}") from None


def _lookup(model: Model) -> Any:
    def lookup(root: Any, info: strawberry.Info, id: strawberry.ID) -> Any:
        try:
            kombo_id = kombo_id_of(id, model.name, TYPE_NAMES)
        except InvalidId as exc:
            raise BadUserInput(f"id: {exc}") from None
        return _load(info, model.name, kombo_id)

    lookup.__annotations__ = {
        "info": strawberry.Info,
        "id": Annotated[
            strawberry.ID,
            strawberry.argument(description=f"The {model.name}'s global id or Kombo id."),
        ],
        "return": f"{model.name} | None",
    }
    lookup.__module__ = MODULE
    return strawberry.field(
        resolver=lookup,
        description=(
            f"One {model.name} by id (global or Kombo's); null when it does not exist. Batched "
            f"with every other {model.name} lookup of the request into one `ids=` call per 250."
        ),
    )


def _node(root: Any, info: strawberry.Info, id: strawberry.ID) -> Awaitable[Record | None]:
    return _load(info, *node_key(id, "id"))


def _nodes(root: Any, info: strawberry.Info, ids: list[strawberry.ID]) -> list[Any]:
    if len(ids) > MAX_NODES:
        raise BadUserInput(f"ids: at most {MAX_NODES} ids, got {len(ids)}")
    keys = [node_key(i, "ids") for i in ids]
    # One awaitable per item: a failed batch nulls its own items, not the whole list.
    return [_load(info, type_name, kombo_id) for type_name, kombo_id in keys]


_node.__annotations__ = {"info": strawberry.Info, "id": strawberry.ID, "return": Node | None}
_nodes.__annotations__ = {
    "info": strawberry.Info,
    "ids": list[strawberry.ID],
    "return": list[Node | None],
}


def _make_query() -> type:
    namespace: dict[str, Any] = {"__module__": MODULE, "__annotations__": {}}
    for model in CATALOG:
        _, connection, _ = CONNECTIONS[model.name]
        namespace["__annotations__"][model.plural] = connection
        namespace[model.plural] = strawberry.field(
            resolver=connection_resolver(model, CONNECTIONS[model.name], None),
            description=(
                f"{model.name} records as a Relay connection over Kombo's `GET {model.path}`, "
                "in upstream order."
            ),
        )
        namespace["__annotations__"][model.singular] = f"{model.name} | None"
        namespace[model.singular] = _lookup(model)
    namespace["__annotations__"]["node"] = Node | None
    namespace["node"] = strawberry.field(
        resolver=_node,
        description=(
            "Any record by its global id (a bare Kombo id is read as an interview's, as in v1); "
            "null when it does not exist. Batched with every other lookup of its type."
        ),
    )
    namespace["__annotations__"]["nodes"] = list[Node | None]
    namespace["nodes"] = strawberry.field(
        resolver=_nodes,
        description=(
            "Records by global id, in the order asked; null for unknown ids. All ids of the "
            "request go upstream as one `ids=` call per model per 250."
        ),
    )
    cls = type("Query", (), namespace)
    return strawberry.type(
        cls, description="Kombo's ATS read API as one graph: ten models, connected."
    )


Query = _make_query()
MODEL_TYPE_LIST = list(MODEL_TYPES.values())
