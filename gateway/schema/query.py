"""The root ``Query`` type."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from gateway.errors import BadUserInput
from gateway.kombo.models import Interview as InterviewModel
from gateway.schema.connection import InterviewConnection, resolve_interviews
from gateway.schema.filters import InterviewFilter
from gateway.schema.request_context import GatewayContext
from gateway.schema.types import Interview, Node

MAX_NODES = 1000
"""Most ids one ``nodes`` call takes (sent upstream in chunks of 250)."""


def _checked_id(value: str, argument: str) -> str:
    if not value or "," in value or len(value) > 200:
        raise BadUserInput(f"{argument}: {value!r} is not a Kombo id")
    return value


def _load(info: strawberry.Info, interview_id: str) -> Awaitable[InterviewModel | None]:
    ctx: GatewayContext = info.context
    return ctx.upstream.interview_loader.load(interview_id)


@strawberry.type(
    description="Kombo interviews, with their interviewers, application, candidate and job."
)
class Query:
    @strawberry.field(description="Interviews as a Relay connection, in upstream order.")
    async def interviews(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description="How many interviews, 1 to 250 (one upstream page of that size)."
            ),
        ] = 100,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Resume after the edge with this cursor (any edge's one)."
            ),
        ] = strawberry.UNSET,
        filter: Annotated[
            InterviewFilter | None,
            strawberry.argument(description="Filters, as Kombo's query parameters."),
        ] = strawberry.UNSET,
    ) -> InterviewConnection:
        return await resolve_interviews(info, first=first, after=after, flt=filter)

    @strawberry.field(
        description=(
            "One interview by its Kombo id; null when it does not exist. Batched with every other "
            "id lookup in the request."
        )
    )
    async def interview(self, info: strawberry.Info, id: strawberry.ID) -> Interview | None:
        return await _load(info, _checked_id(id, "id"))  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "Any node by its Kombo id. Only interviews are refetchable nodes, so this is "
            "`interview(id:)` typed as `Node`; batched with every other id lookup."
        )
    )
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await _load(info, _checked_id(id, "id"))  # type: ignore[return-value]

    @strawberry.field(
        description=(
            "Nodes by Kombo id, in the order asked; null for unknown ids. Only interviews are "
            "refetchable nodes. All ids of the request go upstream as one `ids=` call per 250."
        )
    )
    def nodes(self, info: strawberry.Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"ids: at most {MAX_NODES} ids, got {len(ids)}")
        checked = [_checked_id(i, "ids") for i in ids]
        # One awaitable per item: a failed chunk nulls its own items, not the whole list.
        return [_load(info, i) for i in checked]  # type: ignore[misc]
