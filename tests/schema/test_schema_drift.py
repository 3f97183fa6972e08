"""The committed schema.graphql is exactly what the code generates, and holds the contract's SDL."""

from __future__ import annotations

import re
import subprocess
import sys

from graphql import build_schema as parse_sdl
from graphql.utilities import find_breaking_changes

from tests.support.servers import ROOT

# The public contract's SDL, verbatim (README "Example queries", "How GraphQL maps to Kombo"): the
# schema may add to it, never rename or remove.
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
type User { id: ID!  remoteId: String  firstName: String  lastName: String  email: String }
enum ApplicationOutcome { PENDING HIRED DECLINED }
type Application { id: ID!  remoteId: String  outcome: ApplicationOutcome  rejectionReasonName: String  candidate: Candidate  job: Job }
type Candidate { id: ID!  remoteId: String!  firstName: String  lastName: String  emailAddresses: [EmailAddress!]! }
type EmailAddress { emailAddress: String  type: String }
type Job {
  id: ID!  remoteId: String!  name: String
  interviews(first: Int = 100, after: String, filter: InterviewFilter): InterviewConnection!
}
"""  # noqa: E501


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
    contract = parse_sdl(CONTRACT_SDL)
    assert find_breaking_changes(contract, ours) == []
    # Same arguments and defaults, same nullability, type by type and field by field.
    for name, contract_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        our_type = ours.type_map[name]
        for field_name, field in getattr(contract_type, "fields", {}).items():
            ours_field = our_type.fields[field_name]  # type: ignore[attr-defined]
            assert str(ours_field.type) == str(field.type), (name, field_name)
            for arg_name, arg in getattr(field, "args", {}).items():
                assert str(ours_field.args[arg_name].type) == str(arg.type), (name, field_name)
                assert ours_field.args[arg_name].default_value == arg.default_value


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
