"""Query limits over the schema, without a server: each limit just under and just over its bound,
refused with ``QUERY_TOO_COMPLEX`` before any upstream call; the cost estimate as documented; the
run-time upstream-call budget; the introspection switch; the settings that configure them all."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import get_introspection_query, parse
from strawberry.types.execution import PreExecutionError

from gateway.app import EXAMPLE_QUERY
from gateway.execution import executable_schema
from gateway.kombo import InterviewPage, InterviewQuery
from gateway.kombo.models import parse_interview
from gateway.sandbox.data import INTEGRATIONS, interviews_for
from gateway.schema import GatewayContext, GatewaySchema, QueryLimits
from gateway.schema.limits import (
    CONNECTION_FIELDS,
    ID_LOOKUPS,
    CostEstimate,
    Shape,
    UpstreamBudget,
    estimate_cost,
    measure_operations,
)
from gateway.settings import Settings, SettingsError
from tests.servers import ROOT

INTEGRATION = INTEGRATIONS[0]
ALL = interviews_for(INTEGRATION)
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
    every call: the proof that a refused query reached nothing upstream."""

    calls: list[tuple[InterviewQuery, int, str | None]] = field(default_factory=list)

    async def list_interviews(
        self,
        integration_id: str,
        query: InterviewQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        on_upstream_call: Any = None,
        **_: Any,
    ) -> InterviewPage:
        if on_upstream_call is not None:  # as the client: the request's budget, spent per call
            on_upstream_call()
        self.calls.append((query, page_size, cursor))
        await asyncio.sleep(0)
        records = [parse_interview(i.payload) for i in interviews_for(integration_id)]
        if query.ids is not None:
            records = [r for r in records if r.id in query.ids]
        if query.job_ids is not None:
            records = [
                r
                for r in records
                if r.application and r.application.job and r.application.job.id in query.job_ids
            ]
        return InterviewPage(results=tuple(records[:page_size]), next=None)


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
        context = GatewayContext(
            kombo=kombo,  # type: ignore[arg-type]
            cursor_key=b"k" * 32,
            integration_id=INTEGRATION,
            request_id="test-request",
            upstream_budget=UpstreamBudget(budget),
        )
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


# --- depth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [1, 3, 7, 12, 13])
def test_depth_counts_the_fields_on_the_longest_path(levels: int) -> None:
    ((shape),) = measure_operations(parse(nested(levels))).values()
    assert shape.depth == levels


def test_depth_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_depth=4))
    assert_allowed(run(nested(4), schema=schema))
    assert_refused(
        run(nested(5), schema=schema), "query depth 5 exceeds the limit of 4 (GATEWAY_MAX_DEPTH)"
    )


def test_depth_counts_through_fragments_and_inline_fragments() -> None:
    document = """
    query Deep { interviews { ...Conn } }
    fragment Conn on InterviewConnection { nodes { ... on Interview { application { ...App } } } }
    fragment App on Application { job { id } candidate { emailAddresses { emailAddress } } }
    """
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 6  # interviews nodes application candidate emailAddresses emailAddress
    schema = executable_schema(QueryLimits(max_depth=5))
    assert_refused(
        run(document, schema=schema), "query depth 6 exceeds the limit of 5 (GATEWAY_MAX_DEPTH)"
    )


def test_introspection_fields_do_not_count_towards_depth() -> None:
    ((shape),) = measure_operations(parse(GRAPHIQL_INTROSPECTION)).values()
    assert shape == Shape(depth=0, aliases=0)
    document = '{ __typename interview(id: "x") { id } __type(name: "Job") { ' + (
        "ofType { " * 12 + "name" + " }" * 12 + " } }"
    )
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 2


def test_fragment_cycles_and_long_chains_are_measured_without_recursion() -> None:
    chain = "\n".join(f"fragment F{i} on Interview {{ ...F{i + 1} }}" for i in range(3000))
    document = '{ interview(id: "x") { ...F0 } }\n' + chain + "\nfragment F3000 on Interview { id }"
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.depth == 2
    cycle = '{ interview(id: "x") { ...A } } fragment A on Interview { id ...B } '
    cycle += "fragment B on Interview { application { id } ...A }"
    ((shape),) = measure_operations(parse(cycle)).values()
    assert shape.depth == 3


# --- aliases ---------------------------------------------------------------------------------


def aliased_lookups(count: int) -> str:
    ids = [i.payload["id"] for i in ALL[:count]]
    return "{ " + " ".join(f'i{n}: interview(id: "{i}") {{ id }}' for n, i in enumerate(ids)) + " }"


def test_aliases_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_aliases=5))
    allowed = run(aliased_lookups(5), schema=schema)
    assert_allowed(allowed)
    assert allowed.upstream_calls == 1  # the five lookups are one batch
    assert_refused(
        run(aliased_lookups(6), schema=schema),
        "alias count 6 exceeds the limit of 5 (GATEWAY_MAX_ALIASES)",
    )


def test_aliases_in_a_fragment_count_once_per_spread() -> None:
    document = """
    { a: interview(id: "x") { ...F } b: interview(id: "y") { ...F } }
    fragment F on Interview { t: title s: startingAt }
    """
    ((shape),) = measure_operations(parse(document)).values()
    assert shape.aliases == 6
    assert_refused(
        run(document, schema=executable_schema(QueryLimits(max_aliases=5))),
        "alias count 6 exceeds the limit of 5 (GATEWAY_MAX_ALIASES)",
    )


def test_fragments_that_double_at_every_level_are_refused_quickly() -> None:
    # Strawberry's own limiters walk such fragments 2^n times; ours measure each fragment once.
    levels = 60
    fragments = "\n".join(
        f"fragment D{i} on Interview {{ ...D{i + 1} ...D{i + 1} }}" for i in range(levels)
    )
    document = '{ interview(id: "x") { ...D0 } }\n' + fragments
    document += f"\nfragment D{levels} on Interview {{ t: title }}"
    started = time.perf_counter()
    outcome = run(document)
    assert time.perf_counter() - started < 1
    assert_refused(
        outcome, "alias count over 1000000000 exceeds the limit of 100 (GATEWAY_MAX_ALIASES)"
    )


# --- tokens ----------------------------------------------------------------------------------


def tokens(count: int) -> str:
    """A document of exactly ``count`` lexical tokens (``{``, names, ``}``)."""
    return "{ " + "__typename " * (count - 2) + "}"


def test_tokens_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_tokens=50))
    assert_allowed(run(tokens(50), schema=schema))
    assert_refused(
        run(tokens(51), schema=schema),
        "token count exceeds the limit of 50 (GATEWAY_MAX_TOKENS); the document was not parsed "
        "further",
    )


def test_comments_count_as_tokens() -> None:
    schema = executable_schema(QueryLimits(max_tokens=50))
    padded = "# a comment\n" * 60 + "{ __typename }"
    assert run(padded, schema=schema).errors[0]["code"] == "QUERY_TOO_COMPLEX"


def test_other_syntax_errors_stay_bad_user_input() -> None:
    outcome = run("{ interviews { ")
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]


# --- cost ------------------------------------------------------------------------------------

FAN_OUT = """
query FanOut($outer: Int, $inner: Int) {
  interviews(first: $outer) {
    nodes { id application { job { interviews(first: $inner) { nodes { id } } } } }
  }
}
"""


def estimate(document: str, variables: dict[str, Any] | None = None) -> CostEstimate | None:
    return estimate_cost(DEFAULT_SCHEMA._schema, parse(document), None, variables)


def test_first_multiplies_through_nested_connections() -> None:
    # The docstring's example: 250 + 250 * 250 interviews; 1 + 250 upstream calls.
    assert estimate(FAN_OUT, {"outer": 250, "inner": 250}) == CostEstimate(62_750, 251)
    assert estimate(FAN_OUT, {"outer": 3, "inner": 7}) == CostEstimate(3 + 21, 1 + 3)


def test_first_defaults_to_100_and_literals_count_like_variables() -> None:
    assert estimate(FAN_OUT) == CostEstimate(100 + 100 * 100, 101)
    literal = FAN_OUT.replace("first: $outer", "first: 2").replace("first: $inner", "first: 5")
    assert estimate(literal) == CostEstimate(2 + 10, 3)
    with_default = FAN_OUT.replace("$outer: Int", "$outer: Int = 4")
    assert estimate(with_default, {"inner": 1}) == CostEstimate(4 + 4, 5)


def test_edges_and_nodes_of_one_connection_are_one_fetch() -> None:
    document = """{ interviews(first: 10) {
      edges { node { application { job { interviews(first: 2) { nodes { id } } } } } }
      nodes { id }
      pageInfo { endCursor }
    } }"""
    # edges and nodes are two lists of the same 10 interviews: both are counted (an upper bound).
    assert estimate(document) == CostEstimate(10 + 10 * 2, 1 + 10)


def test_id_lookups_cost_one_node_per_id_and_one_call_per_250_ids() -> None:
    ids = [f"id{n}" for n in range(300)]
    document = """query($ids: [ID!]!) {
      a: interview(id: "x") { id }
      b: node(id: "y") { id }
      nodes(ids: $ids) { id }
    }"""
    assert estimate(document, {"ids": ids}) == CostEstimate(302, 2)
    assert estimate(document, {"ids": ids[:10]}) == CostEstimate(12, 1)
    nested_job = (
        '{ interview(id: "x") { application { job { interviews(first: 10) { nodes { id } } } } } }'
    )
    assert estimate(nested_job) == CostEstimate(1 + 10, 1 + 1)


def test_fields_merged_by_execution_are_counted_once() -> None:
    document = """
    { interviews(first: 10) { nodes { id } } ...More }
    fragment More on Query { interviews(first: 10) { pageInfo { hasNextPage } } }
    """
    assert estimate(document) == CostEstimate(10, 1)


def test_skipped_fields_cost_nothing() -> None:
    document = """query($full: Boolean!) {
      interviews(first: 5) {
        nodes { application { job @include(if: $full) { interviews(first: 50) { nodes { id } } } } }
      }
    }"""
    assert estimate(document, {"full": True}) == CostEstimate(5 + 250, 6)
    assert estimate(document, {"full": False}) == CostEstimate(5, 1)


def test_an_out_of_range_first_is_left_to_the_resolver() -> None:
    assert estimate("{ interviews(first: 100000) { nodes { id } } }") == CostEstimate(0, 1)
    outcome = run("{ interviews(first: 100000) { nodes { id } } }")
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]
    assert outcome.upstream_calls == 0


def test_cost_just_under_and_just_over_the_limit_with_variables() -> None:
    schema = executable_schema(QueryLimits(max_cost=24, max_estimated_calls=1_000))
    assert_allowed(run(FAN_OUT, {"outer": 4, "inner": 5}, schema=schema))  # 4 + 20 = 24
    assert_refused(
        run(FAN_OUT, {"outer": 4, "inner": 6}, schema=schema),  # 4 + 24 = 28
        "estimated cost of 28 interviews exceeds the limit of 24 (GATEWAY_MAX_COST)",
    )


def test_estimated_calls_just_under_and_just_over_the_limit() -> None:
    schema = executable_schema(QueryLimits(max_estimated_calls=5))
    assert_allowed(run(FAN_OUT, {"outer": 4, "inner": 1}, schema=schema))  # 1 + 4 calls
    assert_refused(
        run(FAN_OUT, {"outer": 5, "inner": 1}, schema=schema),
        "estimated upstream call count 6 exceeds the limit of 5 (GATEWAY_MAX_ESTIMATED_CALLS)",
    )


def test_both_cost_limits_report_together() -> None:
    outcome = run(FAN_OUT, {"outer": 250, "inner": 250})
    assert not outcome.executed and outcome.upstream_calls == 0
    assert [e["message"] for e in outcome.errors] == [
        "estimated cost of 62750 interviews exceeds the limit of 10000 (GATEWAY_MAX_COST)",
        "estimated upstream call count 251 exceeds the limit of 25 (GATEWAY_MAX_ESTIMATED_CALLS)",
    ]


def test_bad_variables_are_reported_by_execution_not_the_estimate() -> None:
    outcome = run(FAN_OUT, {"outer": "many"})
    assert [e["code"] for e in outcome.errors] == ["BAD_USER_INPUT"]
    assert outcome.upstream_calls == 0


def test_every_connection_and_id_lookup_of_the_schema_is_costed() -> None:
    """A new connection or lookup field must be added to the estimate's tables."""
    graphql_schema = DEFAULT_SCHEMA._schema
    connections = set()
    lookups = set()
    for type_name, graphql_type in graphql_schema.type_map.items():
        for field_name, field_def in getattr(graphql_type, "fields", {}).items():
            named = str(field_def.type).strip("[]!")
            if type_name.startswith("__"):
                continue
            if named.endswith("Connection"):
                connections.add((type_name, field_name))
            if type_name == "Query" and named in ("Interview", "Node"):
                lookups.add((type_name, field_name))
    assert connections == CONNECTION_FIELDS
    assert lookups == set(ID_LOOKUPS)


# --- the run-time budget ---------------------------------------------------------------------

JOBS_INTERVIEWS = """
query($first: Int) {
  interviews(first: $first) {
    nodes { id application { job { id interviews(first: 1) { nodes { id } } } } }
  }
}
"""


def distinct_jobs(count: int) -> int:
    visible = [i.payload for i in ALL if i.payload["remote_deleted_at"] is None][:count]
    return len({(p.get("application") or {}).get("job", {}).get("id") for p in visible} - {None})


def test_upstream_calls_just_within_the_budget() -> None:
    first = 10
    calls = 1 + distinct_jobs(first)  # the same job's interviews are fetched once
    outcome = run(JOBS_INTERVIEWS, {"first": first}, budget=calls)
    assert_allowed(outcome)
    assert outcome.upstream_calls == calls


def test_the_field_over_budget_fails_and_the_rest_of_the_response_stands() -> None:
    first = 10
    budget = 4
    outcome = run(JOBS_INTERVIEWS, {"first": first}, budget=budget)
    assert outcome.executed
    assert outcome.upstream_calls == budget
    assert outcome.data is not None
    nodes = outcome.data["interviews"]["nodes"]
    assert len(nodes) == first and all(n["id"] for n in nodes)
    failed = {tuple(e["path"]) for e in outcome.errors}
    assert failed and all(
        e
        == {
            "message": "upstream-call budget of 4 exceeded (GATEWAY_UPSTREAM_BUDGET): this field "
            "needed one more call",
            "code": "QUERY_TOO_COMPLEX",
            "path": e["path"],
        }
        for e in outcome.errors
    )
    for index, node in enumerate(nodes):
        job_path = ("interviews", "nodes", index, "application", "job", "interviews")
        job = (node["application"] or {}).get("job")
        if job_path in failed:
            assert job is None  # Job.interviews is non-null: its job is nulled
        elif node["application"] and job is not None:
            assert job["interviews"]["nodes"]


def test_an_id_batch_over_budget_fails_its_lookups() -> None:
    document = '{ interviews(first: 1) { nodes { id } } a: interview(id: "x") { id } }'
    outcome = run(document, budget=1)
    assert outcome.upstream_calls == 1
    assert outcome.data is not None
    assert outcome.data["a"] is None
    assert [(e["code"], e["path"]) for e in outcome.errors] in (
        [("QUERY_TOO_COMPLEX", ["a"])],
        [("QUERY_TOO_COMPLEX", ["interviews"])],
    )


def test_the_budget_counts_calls_and_refuses_past_its_limit() -> None:
    budget = UpstreamBudget(2)
    budget.spend()
    budget.spend()
    with pytest.raises(Exception, match=r"upstream-call budget of 2 exceeded") as raised:
        budget.spend()
    assert getattr(raised.value, "code", None) == "QUERY_TOO_COMPLEX"
    assert budget.spent == 2


# --- introspection ---------------------------------------------------------------------------


def test_introspection_is_on_by_default_and_graphiqls_query_passes() -> None:
    outcome = run(GRAPHIQL_INTROSPECTION)
    assert_allowed(outcome)
    assert outcome.data is not None and outcome.data["__schema"]["queryType"]["name"] == "Query"


def test_introspection_off_refuses_schema_and_type_but_not_typename() -> None:
    schema = executable_schema(QueryLimits(introspection=False))
    outcome = run(GRAPHIQL_INTROSPECTION, schema=schema)
    assert not outcome.executed and outcome.upstream_calls == 0
    assert [(e["message"], e["code"]) for e in outcome.errors] == [
        (
            "introspection is disabled on this gateway (GATEWAY_INTROSPECTION=false): "
            "'__schema' cannot be queried",
            "BAD_USER_INPUT",
        )
    ]
    assert run('{ __type(name: "Job") { name } }', schema=schema).errors[0]["code"] == (
        "BAD_USER_INPUT"
    )
    assert_allowed(
        run("{ __typename interviews(first: 1) { nodes { __typename id } } }", schema=schema)
    )


# --- the defaults let real queries through ---------------------------------------------------


def test_the_readme_examples_are_found() -> None:
    # Fewer would mean the pattern no longer matches them, and the test below checks fewer.
    assert len(README_EXAMPLES) >= 4


@pytest.mark.parametrize("example", README_EXAMPLES, ids=lambda q: q.split("{")[0].strip() or "{")
def test_every_readme_example_passes_the_default_limits(example: str) -> None:
    outcome = run(example)
    assert outcome.executed
    assert not [e for e in outcome.errors if e["code"] == "QUERY_TOO_COMPLEX" or not e["path"]]


def test_graphiqls_default_query_passes_the_default_limits() -> None:
    assert_allowed(run(EXAMPLE_QUERY))


def test_sixty_aliased_lookups_and_nodes_of_120_ids_pass_the_default_limits() -> None:
    ids = [i.payload["id"] for i in ALL[:120]]
    aliases = " ".join(f'i{n}: interview(id: "{i}") {{ id title }}' for n, i in enumerate(ids[:60]))
    outcome = run(f"query($ids: [ID!]!) {{ {aliases} nodes(ids: $ids) {{ id }} }}", {"ids": ids})
    assert_allowed(outcome)
    assert outcome.upstream_calls == 1


def test_the_largest_single_pages_pass_the_default_limits() -> None:
    outcome = run("{ interviews(first: 250) { nodes { id users { id } application { id } } } }")
    assert_allowed(outcome)
    assert_allowed(run(FAN_OUT, {"outer": 24, "inner": 250}))  # 24 + 6,000 nodes; 25 calls


# --- settings --------------------------------------------------------------------------------


def test_settings_default_to_the_documented_limits() -> None:
    assert Settings.from_env({}).limits == QueryLimits(
        max_depth=12,
        max_aliases=100,
        max_tokens=5_000,
        max_cost=10_000,
        max_estimated_calls=25,
        upstream_budget=20,
        introspection=True,
    )


def test_settings_read_every_limit_from_its_variable() -> None:
    env = {
        "GATEWAY_MAX_DEPTH": "5",
        "GATEWAY_MAX_ALIASES": "6",
        "GATEWAY_MAX_TOKENS": "700",
        "GATEWAY_MAX_COST": "800",
        "GATEWAY_MAX_ESTIMATED_CALLS": "9",
        "GATEWAY_UPSTREAM_BUDGET": " 10 ",
        "GATEWAY_INTROSPECTION": "false",
    }
    assert Settings.from_env(env).limits == QueryLimits(5, 6, 700, 800, 9, 10, False)
    assert Settings.from_env({"GATEWAY_INTROSPECTION": "TRUE"}).limits.introspection is True


@pytest.mark.parametrize(
    "name", [v for k, v in QueryLimits.VARIABLES.items() if k != "introspection"]
)
@pytest.mark.parametrize("value", ["0", "-1", "ten", "1.5", "1000000000"])
def test_a_bad_limit_stops_the_start_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{name} must be a whole number from 1 to "):
        Settings.from_env({name: value})


def test_a_bad_introspection_switch_stops_the_start() -> None:
    with pytest.raises(SettingsError, match=r"^GATEWAY_INTROSPECTION must be 'true' or 'false'"):
        Settings.from_env({"GATEWAY_INTROSPECTION": "off-ish"})


# --- hostile variables and documents (issue 8, finding 1) --------------------------------------

FILTER_QUERY = "query($f: InterviewFilter){ interviews(first:1, filter:$f){ nodes{id} } }"


def test_the_estimate_stops_coercing_at_the_first_error() -> None:
    # 100,000 unknown keys: graphql-core prints the whole object (a list of its items) into
    # each error, one error per key; without the bound this took minutes.
    variables = {"f": {f"k{i}": 0 for i in range(100_000)}}
    started = time.process_time()
    estimate = estimate_cost(DEFAULT_SCHEMA._schema, parse(FILTER_QUERY), None, variables)
    assert estimate is None
    assert time.process_time() - started < 1.0


def test_execution_stops_coercing_at_the_first_error() -> None:
    variables = {"f": {f"k{i}": 0 for i in range(20_000)}}
    result = asyncio.run(DEFAULT_SCHEMA.execute(FILTER_QUERY, variable_values=variables))
    messages = [error.message for error in result.errors or ()]
    assert len(messages) == 2, messages[:3]
    assert "unknown field 'k0'" in messages[0]
    assert messages[1].startswith("Too many errors processing variables")


def test_error_messages_are_capped_with_a_marker() -> None:
    from gateway.http import MAX_MESSAGE_CHARS, format_error

    # Keys under bounds.MAX_FIELD_NAME, which graphql-core prints all into the message.
    keys = {f"{index}{'x' * 100}": 0 for index in range(100)}
    result = asyncio.run(DEFAULT_SCHEMA.execute(FILTER_QUERY, variable_values={"f": keys}))
    formatted = format_error((result.errors or [])[0])
    assert formatted["extensions"]["code"] == "BAD_USER_INPUT"
    message = formatted["message"]
    assert message.startswith("Variable '$f' has invalid value: Expected value of type")
    cut = len(result.errors[0].message) - MAX_MESSAGE_CHARS  # type: ignore[index]
    assert message == result.errors[0].message[:MAX_MESSAGE_CHARS] + f"... [{cut} more characters]"  # type: ignore[index]


def test_a_short_message_is_not_cut() -> None:
    from gateway.http import MAX_MESSAGE_CHARS, cap_message

    assert cap_message("x" * MAX_MESSAGE_CHARS) == "x" * MAX_MESSAGE_CHARS
    assert cap_message("x" * (MAX_MESSAGE_CHARS + 5)).endswith("x... [5 more characters]")


@pytest.mark.parametrize(
    "document",
    [
        "{" + " __typename" * 999 + "}",
        "{" + ' interview(id:"1"){id}' * 450 + "}",
        "{" + " interviews{nodes{id}}" * 330 + "}",
    ],
    ids=["same field", "conflicting arguments", "nested"],
)
def test_overlapping_fields_work_is_bounded(document: str) -> None:
    started = time.process_time()
    result = asyncio.run(DEFAULT_SCHEMA.execute(document))
    elapsed = time.process_time() - started
    assert isinstance(result, PreExecutionError)
    assert [(e.message, (e.extensions or {}).get("code")) for e in result.errors or ()] == [
        (
            "validating the document takes too much work (over 10000 comparisons of fields "
            "that share a response name): select each field once, or give repeated fields "
            "distinct aliases",
            "QUERY_TOO_COMPLEX",
        )
    ]
    # Within the token and field bounds (bounds.MAX_FIELDS); parsing and the other rules
    # remain; graphql-core's budget of 500,000 took 0.3 to 1.6 s more.
    assert elapsed < 1.0


def test_several_operations_without_a_name_are_a_request_error() -> None:
    document = "query A { __typename } query B { __typename }"
    result = asyncio.run(DEFAULT_SCHEMA.execute(document))
    assert isinstance(result, PreExecutionError)
    assert [(e.message, (e.extensions or {}).get("code")) for e in result.errors or ()] == [
        ("Must provide operation name if query contains multiple operations.", "BAD_USER_INPUT")
    ]
    named = asyncio.run(DEFAULT_SCHEMA.execute(document, operation_name="B"))
    assert named.errors is None and named.data == {"__typename": "Query"}
