"""The GraphQL object types, read straight from the typed payloads of :mod:`gateway.kombo.models`.

Resolvers return the Kombo model objects themselves; each type's fields have the models' attribute
names, so Strawberry's default resolver reads them with no copying. Only fields that compute
something (an enum, a connection) have a resolver of their own.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

if TYPE_CHECKING:
    from gateway.schema.job import Job

from gateway.kombo import models

KOMBO_ID = (
    "Kombo's own id, verbatim: what Kombo's REST API, its webhooks and your backend use. "
    "Unique within this type, not across types."
)
REMOTE_ID = "The id of this object in the customer's ATS (may combine several identifiers)."


@strawberry.interface(
    description=(
        "An object that can be fetched again by its id with `node`/`nodes`. Only `Interview` "
        "implements it: ids are Kombo's, unique within a type, so combine `__typename` and `id` "
        "for a global cache key."
    )
)
class Node:
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)


@strawberry.type(description="Where an interview takes place, as parsed by Kombo.")
class Location:
    city: str | None = strawberry.field(description="City.")
    country: str | None = strawberry.field(
        description="ISO2 country code where Kombo could parse it, else the original value."
    )
    raw: str | None = strawberry.field(description="The raw address string, when there is one.")
    state: str | None = strawberry.field(description="State or region.")
    street_1: str | None = strawberry.field(description="First line of the street address.")
    street_2: str | None = strawberry.field(description="Second line of the street address.")
    zip_code: str | None = strawberry.field(description="Postal code.")


@strawberry.type(description="An ATS user: here, an interviewer.")
class User:
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)
    remote_id: str | None = strawberry.field(description=REMOTE_ID)
    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    email: str | None = strawberry.field(description="Email; null when Kombo found it invalid.")


@strawberry.enum(description="Kombo's parsed status of an application.")
class ApplicationOutcome(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Still in process.")
    HIRED = strawberry.enum_value("HIRED", description="Accepted; the candidate was hired.")
    DECLINED = strawberry.enum_value("DECLINED", description="Rejected, or the candidate declined.")


@strawberry.type(description="One email address of a candidate.")
class EmailAddress:
    email_address: str | None = strawberry.field(description="The address.")
    type: str | None = strawberry.field(
        description="Its kind (e.g. PRIVATE, WORK) when the ATS says; else null."
    )


@strawberry.type(description="The person who applied.")
class Candidate:
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)
    remote_id: str = strawberry.field(description=REMOTE_ID)
    first_name: str | None = strawberry.field(description="First name.")
    last_name: str | None = strawberry.field(description="Last name.")
    email_addresses: list[EmailAddress] = strawberry.field(
        description="The candidate's email addresses; invalid ones are left out by Kombo."
    )


@strawberry.type(description="A candidate's application to a job.")
class Application:
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)
    remote_id: str | None = strawberry.field(description=REMOTE_ID)

    @strawberry.field(
        description="Kombo's parsed status: PENDING, HIRED or DECLINED; null when unknown."
    )
    def outcome(self) -> ApplicationOutcome | None:
        value = self.outcome  # type: ignore[attr-defined]  # the model's enum member
        return None if value is None else ApplicationOutcome(value.value)

    rejection_reason_name: str | None = strawberry.field(
        description="Why the candidate was rejected, when they were."
    )
    candidate: Candidate | None = strawberry.field(description="Who applied.")
    # Job lives in its own module (it holds a connection, whose module needs Interview): a lazy
    # reference keeps the import graph one-way, types <- connection <- job.
    job: Annotated[Job, strawberry.lazy("gateway.schema.job")] | None = strawberry.field(
        description="The job applied to."
    )


@strawberry.type(description="An interview, with its interviewers and its application embedded.")
class Interview(Node):
    id: strawberry.ID = strawberry.field(description=KOMBO_ID)
    remote_id: str | None = strawberry.field(description=REMOTE_ID)
    title: str | None = strawberry.field(description="Title of the interview.")
    starting_at: datetime | None = strawberry.field(description="When it starts.")
    ending_at: datetime | None = strawberry.field(description="When it ends.")
    location: Location | None = strawberry.field(description="Where it takes place.")
    video_conferencing_url: str | None = strawberry.field(
        description="Link to the video call, if any."
    )
    application_id: strawberry.ID | None = strawberry.field(
        description="Kombo id of the application this interview belongs to."
    )
    stage_id: strawberry.ID | None = strawberry.field(
        description="Kombo id of the application stage, when the ATS says."
    )
    canceled: bool | None = strawberry.field(
        description="Whether it was canceled; null when the ATS does not say."
    )
    remote_created_at: datetime | None = strawberry.field(
        description="When it was created in the ATS."
    )
    remote_updated_at: datetime | None = strawberry.field(
        description="When the ATS last updated it."
    )
    remote_data: JSON | None = strawberry.field(
        description=(
            "The raw data Kombo fetched from the ATS, keyed by endpoint path "
            "(not on every Kombo plan)."
        )
    )
    changed_at: datetime = strawberry.field(
        description=(
            "When Kombo last saw this record itself change (not its nested data; "
            "`filter.updatedAfter` also considers that)."
        )
    )
    remote_deleted_at: datetime | None = strawberry.field(
        description=(
            "When it disappeared from the ATS; null while it exists. Deleted interviews appear "
            "in lists only with `includeDeleted`, and always in id lookups."
        )
    )
    users: list[User] = strawberry.field(description="The interviewers.")
    application: Application | None = strawberry.field(
        description="The application, with its candidate and job."
    )

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        # Resolvers hand out Kombo models; this lets `node`/`nodes` resolve the interface.
        return isinstance(obj, models.Interview | cls)
