"""The ``Job`` type: a job, and its interviews as a connection."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gateway.schema.connection import InterviewConnection, resolve_interviews
from gateway.schema.filters import InterviewFilter
from gateway.schema.types import KOMBO_ID, REMOTE_ID


@strawberry.type(description="A job (requisition) in the ATS.")
class Job:
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)
    remote_id: str = strawberry.field(description=REMOTE_ID)
    name: str | None = strawberry.field(description="Title of the job.")

    @strawberry.field(
        description=(
            "This job's interviews: the same connection as `Query.interviews`, with the job's id "
            "added to the filter's `jobIds`. A `jobIds` filter that leaves this job out matches "
            "nothing. One upstream request per page."
        )
    )
    async def interviews(
        self,
        info: strawberry.Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many interviews, 1 to 250."),
        ] = 100,
        after: Annotated[
            str | None,
            strawberry.argument(description="Resume after the edge with this cursor."),
        ] = strawberry.UNSET,
        filter: Annotated[
            InterviewFilter | None,
            strawberry.argument(description="Filters, combined with this job's id."),
        ] = strawberry.UNSET,
    ) -> InterviewConnection:
        return await resolve_interviews(info, first=first, after=after, flt=filter, job_id=self.id)
