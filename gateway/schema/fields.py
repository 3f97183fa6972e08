"""Resolvers of record fields: a value as Kombo sent it, completed when an inline record lacks it.

A model's record inlined in another (:attr:`~gateway.kombo.records.Record.partial`) holds only
the fields the enclosing endpoint inlines. Asking one of the others completes the record through
the request's per-model loader (:meth:`~gateway.upstream.UpstreamAccess.loader`): every record
of every model asked for in the same tick goes upstream as one ``ids=`` call per 250. A record
that cannot be completed fails only the fields that needed it.

Each resolver carries ``record_read``: what it amounts to for a record that has the key, so that
the fast path (:mod:`gateway.execution.projection`) reads the dict itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from gateway.kombo import Record
from gateway.schema.ids import global_id
from gateway.schema.request_context import GatewayContext

Resolver = Callable[..., Any]


async def _pluck(pending: Awaitable[Record | None], key: str) -> Any:
    # The loader's future is shared by every field asking the same record: one field's task
    # cancelled (graphql-core cancels siblings when null bubbles up) must not cancel it for all.
    whole = await asyncio.shield(pending)
    return None if whole is None else whole.get(key)


def _completed(info: strawberry.Info, record: Record, key: str) -> Awaitable[Any]:
    # The load is asked now, while the resolver runs, not when graphql-core first awaits the
    # result: coroutines start a varying number of loop turns later (deeper lists, more async
    # siblings), and a load asked after the loader's batch was dispatched goes in a batch of its
    # own, one more upstream request for the same model.
    ctx: GatewayContext = info.context
    return _pluck(ctx.upstream.loader(record.type_name).load(record["id"]), key)


def read(record: Record, key: str, info: strawberry.Info) -> Any:
    """``record[key]``, or an awaitable of it once the record is completed."""
    if key in record:
        return record[key]
    if not record.partial or "id" not in record:
        return None
    return _completed(info, record, key)


def value_resolver(key: str, *, completes: bool) -> Resolver:
    """A field holding ``record[key]``; completed from the model's endpoint when the record is
    partial and lacks it, unless ``completes`` is false (a field only inline records carry)."""
    if completes:

        def resolve(root: Record, info: strawberry.Info) -> Any:
            if key in root:
                return root[key]
            return read(root, key, info)

    else:

        def resolve(root: Record, info: strawberry.Info) -> Any:
            return root.get(key)

    resolve.record_read = ("key", key)  # type: ignore[attr-defined]
    return resolve


def global_id_resolver(type_name: str) -> Resolver:
    """``id``: the record's global id (CONTRACT 1.3)."""

    def resolve(root: Record, info: strawberry.Info) -> str:
        return global_id(type_name, root["id"])

    resolve.record_read = ("global_id", type_name)  # type: ignore[attr-defined]
    return resolve


def reference_resolver(id_key: str, model: str) -> Resolver:
    """A record named by an id field (``Interview.stage`` from ``stage_id``), through the
    model's loader: batched with every other lookup of that model in the request."""

    async def load(info: strawberry.Info, pending: Awaitable[Any]) -> Record | None:
        loaded = _load(info, model, await pending)
        return None if loaded is None else await asyncio.shield(loaded)

    def resolve(root: Record, info: strawberry.Info) -> Any:
        value = read(root, id_key, info)
        if isinstance(value, Awaitable):
            return load(info, value)
        return _load(info, model, value)

    return resolve


def _load(info: strawberry.Info, model: str, kombo_id: Any) -> Any:
    if not isinstance(kombo_id, str) or not kombo_id:
        return None
    ctx: GatewayContext = info.context
    return ctx.upstream.loader(model).load(kombo_id)
