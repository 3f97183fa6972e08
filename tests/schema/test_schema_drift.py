"""The committed schema.graphql is exactly what the code generates, and holds the contract's SDL."""

from __future__ import annotations

import re
import subprocess
import sys

from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLObjectType,
    print_ast,
)
from graphql import build_schema as parse_sdl
from graphql.utilities import find_breaking_changes

from tests.support.servers import ROOT

# The public contract's SDL (CONTRACT 1.1, and the v1 fields it keeps on User, Application,
# Candidate and Job; README "Example queries", "How GraphQL maps to Kombo"): the schema may add to
# it, never rename or remove. `id` is the global id and `komboId` Kombo's (CONTRACT 1.3).
# `Candidate.emailAddresses` follows the spec's nullability now that Candidate is the whole model
# (CONTRACT 1.2: `email_addresses` is `array | null` on GET /ats/candidates): `[EmailAddress!]`.
CONTRACT_SDL = """
scalar DateTime
scalar JSON
interface Node { id: ID! }
type Query {
  interviews(first: Int = 100, after: String, filter: InterviewFilter): InterviewConnection!
  interview(id: ID!): Interview
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
}
input InterviewFilter {
  ids: [ID!]
  remoteIds: [String!]
  jobIds: [ID!]
  updatedAfter: DateTime
  includeDeleted: Boolean = false
  ignoreUnsupportedFilters: Boolean = false
}
type InterviewConnection { edges: [InterviewEdge!]!  nodes: [Interview!]!  pageInfo: PageInfo! }
type InterviewEdge { cursor: String!  node: Interview! }
type PageInfo { hasNextPage: Boolean!  hasPreviousPage: Boolean!  startCursor: String  endCursor: String }
type Interview implements Node {
  id: ID!
  komboId: ID!
  remoteId: String
  title: String
  startingAt: DateTime
  endingAt: DateTime
  location: Location
  videoConferencingUrl: String
  applicationId: ID
  stageId: ID
  canceled: Boolean
  remoteCreatedAt: DateTime
  remoteUpdatedAt: DateTime
  remoteData: JSON
  changedAt: DateTime!
  remoteDeletedAt: DateTime
  users: [User!]!
  application: Application
}
type Location { city: String  country: String  raw: String  state: String  street1: String  street2: String  zipCode: String }
type User implements Node { id: ID!  komboId: ID!  remoteId: String  firstName: String  lastName: String  email: String }
enum ApplicationOutcome { PENDING HIRED DECLINED }
type Application implements Node { id: ID!  komboId: ID!  remoteId: String  outcome: ApplicationOutcome  rejectionReasonName: String  candidate: Candidate  job: Job }
type Candidate implements Node { id: ID!  komboId: ID!  remoteId: String!  firstName: String  lastName: String  emailAddresses: [EmailAddress!] }
type EmailAddress { emailAddress: String  type: String }
type Job implements Node {
  id: ID!  komboId: ID!  remoteId: String!  name: String
  interviews(first: Int = 100, after: String, filter: InterviewFilter): InterviewConnection!
  applications(first: Int = 100, after: String, filter: ApplicationFilter): ApplicationConnection!
  candidates(first: Int = 100, after: String, filter: CandidateFilter): CandidateConnection!
}
"""  # noqa: E501

# CONTRACT 1.2: every model is a Node type with a root connection, a lookup, an edge, a
# connection and a filter holding at least the parameters every endpoint has. Names written out
# here, as the contract spells them, not read from the catalog.
MODELS = {
    "Interview": ("interviews", "interview"),
    "Application": ("applications", "application"),
    "Candidate": ("candidates", "candidate"),
    "Job": ("jobs", "job"),
    "User": ("users", "user"),
    "Offer": ("offers", "offer"),
    "Tag": ("tags", "tag"),
    "RejectionReason": ("rejectionReasons", "rejectionReason"),
    "ApplicationStage": ("applicationStages", "applicationStage"),
    "Role": ("roles", "role"),
}


def model_sdl(type_name: str, plural: str, singular: str) -> str:
    connection = f"{type_name}Connection"
    return f"""
extend type Query {{
  {plural}(first: Int = 100, after: String, filter: {type_name}Filter): {connection}!
  {singular}(id: ID!): {type_name}
}}
type {connection} {{ edges: [{type_name}Edge!]!  nodes: [{type_name}!]!  pageInfo: PageInfo! }}
type {type_name}Edge {{ cursor: String!  node: {type_name}! }}
input {type_name}Filter {{
  ids: [ID!]
  remoteIds: [String!]
  updatedAfter: DateTime
  includeDeleted: Boolean = false
  ignoreUnsupportedFilters: Boolean = false
}}
"""


def full_contract_sdl() -> str:
    sdl = CONTRACT_SDL
    for type_name, (plural, singular) in MODELS.items():
        if type_name != "Interview":  # written out above, with its own filter fields
            sdl += model_sdl(type_name, plural, singular)
        if f"type {type_name} " not in sdl:
            sdl += f"type {type_name} implements Node {{ id: ID!  komboId: ID! }}\n"
    return sdl


def default_of(argument: GraphQLArgument | GraphQLInputField) -> str | None:
    """An argument's or input field's default as SDL prints it; ``None`` when it has none."""
    if argument.default is None:
        return None
    return print_ast(argument.default.literal)


def generated_sdl() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout


def test_committed_schema_equals_the_generated_one() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert generated_sdl() == committed, "regenerate it: make schema"


def test_schema_holds_the_contract_with_nothing_renamed_or_removed() -> None:
    ours = parse_sdl((ROOT / "schema.graphql").read_text())
    contract = parse_sdl(full_contract_sdl())
    assert find_breaking_changes(contract, ours) == []
    # Same arguments and defaults, same nullability, same interfaces, type by type and field by
    # field (a changed default is only "dangerous" to find_breaking_changes).
    checked_defaults = 0
    for name, contract_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        our_type = ours.type_map[name]
        if isinstance(contract_type, GraphQLObjectType):
            assert isinstance(our_type, GraphQLObjectType), name
            assert {i.name for i in contract_type.interfaces} <= {
                i.name for i in our_type.interfaces
            }, name
        for field_name, field in getattr(contract_type, "fields", {}).items():
            ours_field = our_type.fields[field_name]  # type: ignore[attr-defined]
            assert str(ours_field.type) == str(field.type), (name, field_name)
            if isinstance(field, GraphQLInputField):
                assert default_of(ours_field) == default_of(field), (name, field_name)
                checked_defaults += field.default is not None
            for arg_name, arg in getattr(field, "args", {}).items():
                ours_arg = ours_field.args[arg_name]
                assert str(ours_arg.type) == str(arg.type), (name, field_name, arg_name)
                assert default_of(ours_arg) == default_of(arg), (name, field_name, arg_name)
                checked_defaults += arg.default is not None
    # `first: Int = 100` on 13 connections, the two boolean filters of 10 filters.
    assert checked_defaults == 13 + 2 * 10


def test_every_type_and_field_has_a_description() -> None:
    ours = parse_sdl((ROOT / "schema.graphql").read_text())
    missing = []
    for name, type_ in ours.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Boolean", "ID", "Float"}:
            continue
        if not type_.description:
            missing.append(name)
        for field_name, field in getattr(type_, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
    assert missing == []


def test_sdl_prints_no_null_defaults_the_contract_does_not_have() -> None:
    assert not re.search(
        r"(after|filter|ids|remoteIds|jobIds|updatedAfter): \S+ = null", generated_sdl()
    )
