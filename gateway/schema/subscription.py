"""The root ``Subscription``: ``changes(types:)``, records of the caller's integration that changed
upstream (CONTRACT 1.6).

The resolver subscribes to the process's change feed (``info.context.live``: the LiveFeed of
:mod:`gateway.live`) and turns each event's raw
Kombo record into the model's record with the same parser as pages
(:func:`gateway.kombo.parsing.parse_record`). Before each event is executed the context gets a
fresh upstream access (:meth:`GatewayContext.next_event`): the event's nested fields resolve and
batch through new loaders within a new budget and deadline, as one query would, and nothing is
cached from one event to the next.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from gateway.errors import BadUserInput, GatewayError
from gateway.kombo import KomboError, Record
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_record
from gateway.schema.graph import Node
from gateway.schema.request_context import GatewayContext

__all__ = ["Change", "LiveUnavailable", "NodeType", "Subscription", "TooManySubscriptions"]

log = logging.getLogger("gateway.live")

_node_types: type[Enum] = Enum(  # type: ignore[misc]
    "NodeType", [(m.node_type, m.name) for m in CATALOG], module=__name__
)
NodeType: Any = strawberry.enum(
    _node_types, description="The type of a record (a `Node`): one value per Kombo model."
)
"""Each value's Python value is the catalog's model name (``NodeType.APPLICATION_STAGE.value ==
"ApplicationStage"``)."""


class LiveUnavailable(GatewayError):
    """This gateway process serves no change feed (it was built without one)."""

    code = "LIVE_UNAVAILABLE"
    http_status = 503
    default_message = "Live changes are not available on this gateway."


class TooManySubscriptions(GatewayError):
    """A limit on subscriptions (per connection, per integration, per process) is reached."""

    code = "TOO_MANY_SUBSCRIPTIONS"
    http_status = 429
    default_message = "Too many subscriptions; end one before starting another."


@strawberry.type(description="One record that changed upstream, as it is now.")
class Change:
    type: NodeType = strawberry.field(  # type: ignore[valid-type]
        description="The record's type (the same as `node`'s `__typename`)."
    )
    node: Node = strawberry.field(
        description=(
            "The record as Kombo returns it now. Its nested fields resolve as in a query, with "
            "the lookups of this one change batched per model."
        )
    )
    deleted: bool = strawberry.field(
        description="True when the record was deleted upstream (its `remoteDeletedAt` is set)."
    )
    changed_at: datetime | None = strawberry.field(
        description="When the record itself last changed upstream (its `changedAt`)."
    )


def change_of(model_name: str, raw: Any) -> Change:
    """The :class:`Change` for one raw Kombo record of ``model_name``."""
    record: Record = parse_record(CATALOG[model_name], raw)
    return Change(
        type=NodeType[CATALOG[model_name].node_type],  # type: ignore[misc]
        node=record,  # type: ignore[arg-type]
        deleted=record.get("remote_deleted_at") is not None,
        changed_at=record.get("changed_at"),
    )


async def _changes(
    root: Any,
    info: strawberry.Info,
    types: list[NodeType] | None = strawberry.UNSET,  # type: ignore[valid-type]
) -> AsyncGenerator[Change, None]:
    ctx: GatewayContext = info.context
    if ctx.live is None:
        raise LiveUnavailable()
    if types is strawberry.UNSET:
        types = None
    if types is not None and not types:
        raise BadUserInput("types: give at least one type, or omit it for every type")
    models = frozenset(t.value for t in types) if types else frozenset(m.name for m in CATALOG)
    integration = ctx.upstream.integration()
    try:
        subscription = ctx.live.subscribe(integration, models)
    except GatewayError:
        raise
    except Exception as exc:  # the feed's own refusal (gateway.live.LiveLimitExceeded)
        if getattr(exc, "scope", None) == "shutdown":
            raise LiveUnavailable(str(exc) or None) from exc
        raise TooManySubscriptions(str(exc) or None) from exc
    ctx.live_subscription = subscription
    try:
        async for event in subscription:
            if event.integration_id != integration or event.model not in models:
                continue  # never another tenant's record, whatever the feed delivers
            try:
                change = change_of(event.model, event.record)
            except KomboError as exc:
                # A record the parser refuses would fail a page the same way: skipped, logged.
                log.warning("a changed %s record is malformed, not delivered: %s", event.model, exc)
                continue
            ctx.next_event()
            yield change
    finally:
        subscription.close()


_changes.__annotations__["types"] = Annotated[
    list[NodeType] | None,  # type: ignore[valid-type]
    strawberry.argument(description="The types to receive; omitted: every type."),
]


@strawberry.type(description="Live changes of the caller's integration.")
class Subscription:
    changes: Change = strawberry.subscription(  # type: ignore[assignment]
        resolver=_changes,
        description=(
            "Records of the caller's integration that changed upstream (created, updated or "
            "deleted), as they are now."
        ),
    )
