"""Query limits over the schema, without a server: a document run with a fake Kombo, and what
came of it (refused before any upstream call with ``QUERY_TOO_COMPLEX``, or executed)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from graphql import get_introspection_query
from strawberry.types.execution import PreExecutionError

from gateway.execution import executable_schema
from gateway.kombo import ListQuery, Page
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_record
from gateway.sandbox.data import INTEGRATIONS, interviews_for
from gateway.schema import GatewayContext, GatewaySchema, QueryLimits
from gateway.upstream import UpstreamAccess, UpstreamBudget
from tests.support.servers import ROOT

INTEGRATION = INTEGRATIONS[0]
ALL = interviews_for(INTEGRATION)
INTERVIEWS = CATALOG["Interview"]
DEFAULT_SCHEMA = executable_schema()
GRAPHIQL_INTROSPECTION = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
    one_of=True,
)
README_EXAMPLES = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


@dataclass
class FakeKombo:
    """Answers from the sandbox's data (one page, ``ids`` and ``job_ids`` honoured) and records
    every call: the proof that a refused query reached nothing upstream. The sandbox serves
    interviews only: every other endpoint answers an empty page."""

    calls: list[tuple[ListQuery, int, str | None]] = field(default_factory=list)

    async def list_records(
        self,
        integration_id: str,
        query: ListQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        on_upstream_call: Any = None,
        **_: Any,
    ) -> Page:
        if on_upstream_call is not None:  # as the client: the request's budget, spent per call
            on_upstream_call()
        self.calls.append((query, page_size, cursor))
        await asyncio.sleep(0)
        if query.path != INTERVIEWS.path:
            return Page(query.path, results=(), next=None)
        records = [parse_record(INTERVIEWS, i.payload) for i in interviews_for(integration_id)]
        ids = query.get("ids")
        if isinstance(ids, tuple):
            records = [r for r in records if r["id"] in ids]
        job_ids = query.get("job_ids")
        if isinstance(job_ids, tuple):
            records = [r for r in records if _job_id(r) in job_ids]
        return Page(query.path, results=tuple(records[:page_size]), next=None)


def _job_id(interview: dict[str, Any]) -> Any:
    application = interview.get("application") or {}
    return (application.get("job") or {}).get("id")


@dataclass
class Outcome:
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    executed: bool
    upstream_calls: int


def run(
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    schema: GatewaySchema = DEFAULT_SCHEMA,
    budget: int = QueryLimits.upstream_budget,
) -> Outcome:
    kombo = FakeKombo()

    async def execute() -> Any:
        upstream = UpstreamAccess(
            kombo=kombo,  # type: ignore[arg-type]
            integration_id=INTEGRATION,
            budget=UpstreamBudget(budget),
        )
        context = GatewayContext(upstream=upstream, cursor_key=b"k" * 32, request_id="test-request")
        return await schema.execute(query, variable_values=variables, context_value=context)

    result = asyncio.run(execute())
    errors = [
        {"message": e.message, "code": (e.extensions or {}).get("code"), "path": e.path}
        for e in result.errors or ()
    ]
    return Outcome(
        data=result.data,
        errors=errors,
        executed=not isinstance(result, PreExecutionError),
        upstream_calls=len(kombo.calls),
    )


def assert_refused(outcome: Outcome, message: str) -> None:
    """Refused before execution with exactly this message, and nothing reached upstream."""
    assert not outcome.executed and outcome.data is None
    assert [(e["message"], e["code"]) for e in outcome.errors] == [(message, "QUERY_TOO_COMPLEX")]
    assert outcome.upstream_calls == 0


def assert_allowed(outcome: Outcome) -> None:
    assert outcome.executed and outcome.errors == [], outcome.errors


def nested(levels: int) -> str:
    """A query ``levels`` fields deep: ``{ interviews { nodes { ... { id } } } }``."""
    path = ["interviews", "nodes", "application", "job", "interviews", "nodes"]
    path += ["application", "job", "interviews", "nodes", "application", "job", "interviews"]
    fields = [*path[: levels - 1], "id"]
    return "{ " + " { ".join(fields) + " }" * (len(fields) - 1) + " }"


FAN_OUT = """
query FanOut($outer: Int, $inner: Int) {
  interviews(first: $outer) {
    nodes { id application { job { interviews(first: $inner) { nodes { id } } } } }
  }
}
"""


FILTER_QUERY = "query($f: InterviewFilter){ interviews(first:1, filter:$f){ nodes{id} } }"
