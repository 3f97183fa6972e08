"""The six scenarios, and how each target (REST, baseline, gateway) asks for and answers them.

A :class:`Scenario` says what data a frontend wants: one page of a model's records (interviews,
jobs, applications), consecutive pages (walked with the cursor of the previous answer), or a set
of interviews by id. A :class:`Target` turns that into HTTP requests of its own protocol, at the
model's endpoint, and reads its answers back into Kombo ids, so that the harness can check that all
three targets return the same records, and that no answer carries an error, before it measures
anything.

Variants: the load replays several variants of each scenario, each its own upstream query, so
that requests in flight at once are (almost) never identical. The gateway's Kombo client
coalesces identical upstream calls in flight; with one request replayed on every connection it
would fetch about half the pages it answers, and its CPU per query would not be comparable with
the baseline's. A page variant adds ``updatedAfter`` / ``updated_after`` at a distinct instant
long before any record changed (every record still matches: the same data); a lookup
variant asks for another sample of ids. ``--identical`` replays variant 0 alone.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.errors import HarnessError
from bench.selections import all_fields_page
from bench.upstream import LARGE_INTEGRATION, WIDE_INTEGRATION
from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox.data import INTEGRATIONS, interviews_for

__all__ = [
    "ALL_FIELDS",
    "APPLICATION_ALL_FIELDS",
    "JOB_ALL_FIELDS",
    "LIST_VIEW",
    "SCENARIOS",
    "Answer",
    "BaselineTarget",
    "GatewayTarget",
    "HttpRequest",
    "RestTarget",
    "Scenario",
    "Target",
]

DEFAULT_INTEGRATION = INTEGRATIONS[0]

INTERVIEW_ALL_FIELDS = """
      id komboId remoteId title startingAt endingAt
      location { city country raw state street1 street2 zipCode }
      videoConferencingUrl applicationId stageId canceled remoteCreatedAt remoteUpdatedAt
      remoteData changedAt remoteDeletedAt
      users { id remoteId firstName lastName email }
      application { id remoteId outcome rejectionReasonName
        candidate { id remoteId firstName lastName emailAddresses { emailAddress type } }
        job { id remoteId name } }"""

INTERVIEW_LIST_VIEW = """
      id komboId title startingAt
      users { firstName lastName }
      application { candidate { firstName lastName } job { name } }"""

ALL_FIELDS = f"""query AllFields($first: Int, $after: String, $filter: InterviewFilter) {{
  interviews(first: $first, after: $after, filter: $filter) {{
    edges {{ cursor node {{{INTERVIEW_ALL_FIELDS}
    }} }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}"""
"""Every field of the interview, its edges' cursors and the page info."""

LIST_VIEW = f"""query ListView($first: Int, $after: String, $filter: InterviewFilter) {{
  interviews(first: $first, after: $after, filter: $filter) {{
    edges {{ node {{{INTERVIEW_LIST_VIEW}
    }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
"""What a list of interviews shows: title, time, interviewers, candidate and job."""

LOOKUP = f"""query Lookup($ids: [ID!]!) {{
  nodes(ids: $ids) {{ id ... on Interview {{{INTERVIEW_LIST_VIEW}
  }} }}
}}"""
"""Interviews by id (one ``nodes`` call), with the list-view selection."""

JOB_ALL_FIELDS = all_fields_page(CATALOG["Job"])
"""Every field of the job as ``GET /ats/jobs`` returns it (:mod:`bench.selections`): stages,
hiring team, job postings, screening questions with their formats (a union), integration fields,
location, and the edges' cursors and page info."""

APPLICATION_ALL_FIELDS = all_fields_page(CATALOG["Application"])
"""Every field of the application as ``GET /ats/applications`` returns it: the inline candidate,
current stage, job, interviews and offers, the screening question answers (a union)."""


_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
"""Before every sandbox record's last change: ``updated_after`` here filters nothing out."""


@dataclass(frozen=True)
class Scenario:
    """What a frontend asks for: ``pages`` consecutive pages of ``page_size`` records of
    ``model`` (a catalog model's name), or ``lookup`` interview ids.

    A page scenario sends ``updated_after``: variant ``n`` at :data:`_LONG_AGO` plus ``n``
    seconds. A lookup asks for ``lookup`` ids of the default integration (deleted ones included:
    a lookup finds them), a different seeded sample per variant.
    """

    key: str
    title: str
    document: str
    integration: str = DEFAULT_INTEGRATION
    model: str = "Interview"
    page_size: int = 100
    pages: int = 1
    lookup: int = 0
    variants: int = 16
    """How many distinct variants the load cycles through (each a distinct upstream query)."""
    variant: int = 0

    @property
    def is_lookup(self) -> bool:
        return self.lookup > 0

    @property
    def catalog_model(self) -> Model:
        return CATALOG[self.model]

    @property
    def endpoint(self) -> str:
        """Kombo's endpoint of the model: ``/ats/interviews``, ``/ats/jobs``…"""
        return self.catalog_model.path

    @property
    def items_per_request(self) -> int:
        return self.lookup if self.is_lookup else self.page_size

    @property
    def updated_after(self) -> datetime:
        return _LONG_AGO + timedelta(seconds=self.variant)

    @property
    def ids(self) -> tuple[str, ...]:
        """The ids this variant looks up (empty for page scenarios)."""
        return _sample_ids(self.variant, self.lookup) if self.is_lookup else ()

    def with_variants(self, count: int | None = None) -> list[Scenario]:
        """Variants ``0 .. count - 1`` (default: :attr:`variants`) of this scenario."""
        return [
            dataclasses.replace(self, variant=n)
            for n in range(self.variants if count is None else count)
        ]


@functools.cache
def _sample_ids(seed: int, count: int) -> tuple[str, ...]:
    every = [interview.payload["id"] for interview in interviews_for(DEFAULT_INTEGRATION)]
    return tuple(random.Random(seed).sample(every, count))


SCENARIOS: Mapping[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("a", "one page of 100, all fields", ALL_FIELDS, page_size=100),
        Scenario("b", "one page of 20, list view", LIST_VIEW, page_size=20),
        Scenario("c", "100 ids in one nodes(ids:)", LOOKUP, lookup=100),
        Scenario(
            "d",
            "1,000 interviews, 10 pages of 100, all fields",
            ALL_FIELDS,
            integration=LARGE_INTEGRATION,
            page_size=100,
            pages=10,
            variants=4,  # 40 distinct page requests
        ),
        Scenario(
            "e",
            "one page of 100 jobs, all fields",
            JOB_ALL_FIELDS,
            integration=WIDE_INTEGRATION,
            model="Job",
            page_size=100,
        ),
        Scenario(
            "f",
            "one page of 100 applications, all fields",
            APPLICATION_ALL_FIELDS,
            integration=WIDE_INTEGRATION,
            model="Application",
            page_size=100,
        ),
    )
}
"""The scenarios by key, in report order."""


@dataclass(frozen=True)
class HttpRequest:
    """One request as the load generator replays it (path relative to the target's URL)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class Answer:
    """What one response held: the records' Kombo ids and the cursor of the next page."""

    ids: list[str]
    next_cursor: str | None


class Target(ABC):
    """One way to get the scenario's data: its requests and how to read its answers."""

    name: str
    """``rest``, ``baseline`` or ``gateway``."""

    def serves(self, scenario: Scenario) -> bool:
        """Whether this target takes part in the scenario (all do but Mesh, pages only)."""
        return True

    @abstractmethod
    def request(self, scenario: Scenario, cursor: str | None) -> HttpRequest:
        """The request for one page (``cursor``: from the previous :class:`Answer`) or lookup."""

    @abstractmethod
    def read(self, scenario: Scenario, response: httpx.Response) -> Answer:
        """The answer in ``response``; :class:`HarnessError` if it is not a clean success."""


def _json(target: str, response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise HarnessError(f"{target} answered HTTP {response.status_code}: {response.text[:2000]}")
    try:
        return response.json()
    except ValueError as exc:
        raise HarnessError(f"{target} answered with a body that is not JSON: {exc}") from exc


class _KomboRestTarget(Target):
    """Kombo's query string for the scenario's endpoint (``GET /ats/interviews``…), at some path
    (REST itself or the baseline)."""

    @abstractmethod
    def path(self, scenario: Scenario) -> str:
        """Where this target serves the scenario's endpoint."""

    def params(self, scenario: Scenario, cursor: str | None) -> list[tuple[str, str]]:
        if scenario.is_lookup:
            ids = ",".join(scenario.ids)
            return [
                ("ids", ids),
                ("include_deleted", "true"),
                ("page_size", str(len(scenario.ids))),
            ]
        after = scenario.updated_after.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        params = [("page_size", str(scenario.page_size)), ("updated_after", after)]
        if cursor is not None:
            params.append(("cursor", cursor))
        return params

    def request(self, scenario: Scenario, cursor: str | None) -> HttpRequest:
        return HttpRequest(
            "GET",
            f"{self.path(scenario)}?{urlencode(self.params(scenario, cursor))}",
            self.headers(scenario),
        )

    def headers(self, scenario: Scenario) -> dict[str, str]:
        return {"X-Integration-Id": scenario.integration}

    def read(self, scenario: Scenario, response: httpx.Response) -> Answer:
        body = _json(self.name, response)
        if not isinstance(body, dict) or body.get("status") != "success":
            raise HarnessError(f"{self.name} answered without success: {str(body)[:2000]}")
        results = body["data"]["results"]
        return Answer([item["id"] for item in results], body["data"]["next"])


class RestTarget(_KomboRestTarget):
    """The sandbox's REST endpoint itself, as the gateway calls it (with the API key)."""

    name = "rest"

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def path(self, scenario: Scenario) -> str:
        return "/v1" + scenario.endpoint

    def headers(self, scenario: Scenario) -> dict[str, str]:
        return {**super().headers(scenario), "Authorization": f"Bearer {self._api_key}"}


class BaselineTarget(_KomboRestTarget):
    """The hand-written baseline (:mod:`bench.baseline`): the same query string, passed through
    from ``/<endpoint>`` (``/interviews``, ``/jobs``…) to Kombo's ``/ats/<endpoint>``."""

    name = "baseline"

    def path(self, scenario: Scenario) -> str:
        return scenario.endpoint.removeprefix("/ats")


class GatewayTarget(Target):
    """The gateway: a GraphQL POST, as a frontend sends it."""

    name = "gateway"

    def variables(self, scenario: Scenario, cursor: str | None) -> dict[str, Any]:
        if scenario.is_lookup:
            # Global ids, as a frontend sends back the `id`s the gateway gave it.
            return {"ids": [INTERVIEW_ID_PREFIX + kombo_id for kombo_id in scenario.ids]}
        return {
            "first": scenario.page_size,
            "after": cursor,
            "filter": {"updatedAfter": scenario.updated_after.isoformat()},
        }

    def request(self, scenario: Scenario, cursor: str | None) -> HttpRequest:
        body = {"query": scenario.document, "variables": self.variables(scenario, cursor)}
        return HttpRequest(
            "POST",
            "/graphql",
            {
                "Content-Type": "application/json",
                "Accept": "application/graphql-response+json",
                "X-Integration-Id": scenario.integration,
            },
            json.dumps(body, separators=(",", ":")).encode(),
        )

    def read(self, scenario: Scenario, response: httpx.Response) -> Answer:
        body = _json(self.name, response)
        if not isinstance(body, dict) or body.get("errors") or not body.get("data"):
            raise HarnessError(f"gateway answered with errors: {str(body)[:2000]}")
        data = body["data"]
        if scenario.is_lookup:
            nodes: Sequence[dict[str, Any] | None] = data["nodes"]
            return Answer([node["komboId"] for node in nodes if node is not None], None)
        connection = data[scenario.catalog_model.plural]
        info = connection["pageInfo"]
        return Answer(
            [edge["node"]["komboId"] for edge in connection["edges"]],
            info["endCursor"] if info["hasNextPage"] else None,
        )


INTERVIEW_ID_PREFIX = "gid://kombo/Interview/"
"""The gateway's `id` is a global id (README "Ids"): this prefix, then Kombo's id."""
