"""What the spec does not say in a machine-readable way, stated once.

Kombo's OpenAPI document describes each endpoint's records completely, but some facts live only in
its prose or in field names: which inline object is (a part of) which model, which ``*_id`` names
a record of which model, which comma-separated string parameters take a model's ids or an enum's
values, and what to call nested object types. :mod:`gateway.kombo.catalog.reading` applies these
rules to the spec; ``tests/kombo/test_catalog.py`` checks every rule against it (a rule naming a
field the spec lacks fails).
"""

from __future__ import annotations

MODELS: tuple[tuple[str, str], ...] = (
    ("Interview", "/ats/interviews"),
    ("Application", "/ats/applications"),
    ("Candidate", "/ats/candidates"),
    ("Job", "/ats/jobs"),
    ("User", "/ats/users"),
    ("Offer", "/ats/offers"),
    ("Tag", "/ats/tags"),
    ("RejectionReason", "/ats/rejection-reasons"),
    ("ApplicationStage", "/ats/application-stages"),
    ("Role", "/ats/roles"),
)
"""The ten models, in ``NodeType`` order: GraphQL type name and Kombo endpoint."""

INLINE_RECORDS: dict[str, str] = {
    "application": "Application",
    "applications": "Application",
    "candidate": "Candidate",
    "job": "Job",
    "current_stage": "ApplicationStage",
    "stages": "ApplicationStage",
    "interviews": "Interview",
    "offers": "Offer",
    "tags": "Tag",
    "users": "User",
    "hiring_team": "User",
}
"""An object (or list of objects) under one of these field names is a record of that model, as
much of it as the enclosing endpoint inlines: it gets the model's full GraphQL type."""

ID_REFERENCES: dict[str, str] = {
    "application_id": "Application",
    "candidate_id": "Candidate",
    "job_id": "Job",
    "stage_id": "ApplicationStage",
    "current_stage_id": "ApplicationStage",
    "contact_id": "User",
}
"""A model field holding the Kombo id of another model's record; exposed as that record too,
named without ``_id``, unless the record is inlined under that name already."""

ID_PARAMS: dict[str, str | None] = {
    "ids": None,
    "job_ids": "Job",
    "current_stage_ids": "ApplicationStage",
}
"""List parameters of Kombo ids: of the endpoint's own model (None) or of the one named."""

ENUM_PARAMS: dict[str, str] = {
    "outcomes": "outcome",
    "statuses": "status",
    "employment_types": "employment_type",
    "visibilities": "visibility",
    "scopes": "scope",
}
"""List parameters whose values are those of the endpoint's field named here."""

NESTED_NAMES: dict[str, str] = {
    "location": "Location",
    "email_addresses": "EmailAddress",
    "phone_numbers": "PhoneNumber",
    "social_media": "SocialMediaLink",
    "integration_fields": "IntegrationField",
    "screening_questions": "ScreeningQuestion",
    "screening_question_answers": "ScreeningQuestionAnswer",
    "question": "AnsweredScreeningQuestion",
    "answer": "{owner}Value",
    "format": "ScreeningQuestionFormat",
    "options": "ScreeningQuestionOption",
    "job_postings": "JobPosting",
    "system_roles": "SystemRole",
    "job_roles": "JobRole",
}
"""GraphQL names of nested objects that are no model's records, by field name (``{owner}``: the
enclosing type's name). Objects of one name must have one shape wherever they appear."""

INLINE_FIELD_OF: dict[str, str] = {"Application": "application"}
"""Where an inline record comes without ``id`` (an offer's ``application``), the enclosing
record's ``<this>_id`` field holds it."""

NESTED_CONNECTION_PARAMS: tuple[str, ...] = ("job_ids",)
"""A list endpoint filtering by one of these parameters is also a connection on the record the
parameter names (CONTRACT 1.2 "Nested connections": ``Job.interviews`` from ``job_ids``)."""
