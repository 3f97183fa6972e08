"""The fast path answers exactly as graphql-core does for an all-fields page of every model.

For each of the ten root connections, a document asking every field of the model, recursively
(nested objects, unions through every member, inline records of other models and the records
completed from them, references), is run in-process over the sandbox app as the upstream, with the
fast path on and off. The two responses must be byte-for-byte equal, with no errors, a full page,
and the fast path must have projected values (else the comparison would prove nothing).

Fields with arguments (nested connections) are left out: they are not completed by projections.
Records of other models are expanded one level below the page's records (an interview's
application with all its fields, completed; that application's candidate gives its id and type
only: the candidates' own page expands it), which keeps each document finite and the run short.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
)

from bench.selections import all_fields_page
from gateway.config import QueryLimits
from gateway.execution import executable_schema, fastpath
from gateway.http import error_body
from gateway.kombo import KomboClient, KomboConfig
from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox import ALL_INTEGRATIONS, MODELS_NOT_AVAILABLE
from gateway.sandbox.app import create_sandbox_app
from gateway.schema import GatewayContext
from gateway.upstream import UpstreamAccess
from gateway.upstream.budget import UpstreamBudget
from tests.support.record_truth import visible

API_KEY = "fastpath-every-model-key"
BASE_URL = "http://sandbox.test/v1"
CURSOR_KEY = b"fastpath-every-model-cursor-32by"
MODEL_NAMES = frozenset(m.name for m in CATALOG)
LIMITS = QueryLimits(
    max_depth=30,
    max_aliases=1000,
    max_tokens=100_000,
    max_cost=1_000_000,
    max_estimated_calls=1000,
    upstream_budget=1000,
)
FAST = executable_schema(LIMITS, fast_path=True)
SLOW = executable_schema(LIMITS, fast_path=False)
MAX_MODEL_DEPTH = 1
"""Levels of other models' records expanded below the page's records (deeper ones answer
``__typename id``)."""


def selection(schema: GraphQLSchema, type_: Any, path: tuple[str, ...], prefix: str = "") -> str:
    """Every argument-less field of ``type_`` (an object, interface or union), recursively.

    A union's members may have fields of one name and different types (``displayType``): inside
    a member, each field is aliased with ``prefix``, the member's name, so none conflict."""
    if isinstance(type_, GraphQLUnionType):
        members = " ".join(
            f"... on {member.name} {selection(schema, member, path, member.name + '_')}"
            for member in type_.types
        )
        return f"{{ __typename {members} }}"
    assert isinstance(type_, GraphQLObjectType | GraphQLInterfaceType)
    if type_.name in MODEL_NAMES:
        if type_.name in path or len(path) > MAX_MODEL_DEPTH:
            return "{ __typename id }"
        path = (*path, type_.name)
    parts = ["__typename"]
    for name, field in type_.fields.items():
        if field.args:
            continue
        named = get_named_type(field.type)
        alias = f"{prefix}{name}: " if prefix else ""
        if is_leaf_type(named):
            parts.append(f"{alias}{name}")
        else:
            parts.append(f"{alias}{name} {selection(schema, named, path)}")
    return "{ " + " ".join(parts) + " }"


def all_fields_document(model: Model, first: int = 100) -> str:
    schema = FAST._schema
    node_type = schema.get_type(model.name)
    body = selection(schema, node_type, ())
    return (
        f"query AllFields {{ {model.plural}(first: {first}) {{ edges {{ cursor node {body} }} "
        "nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )


def run(
    schema: Any, document: str, integration: str, variables: dict[str, Any] | None = None
) -> tuple[str, list[str]]:
    """The response as a client sees it (JSON text), and the upstream requests made."""
    sent: list[str] = []

    async def go() -> Any:
        transport = httpx.ASGITransport(app=create_sandbox_app(api_key=API_KEY))

        class Logged(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                sent.append(str(request.url))
                return await transport.handle_async_request(request)

        client = KomboClient.open(KomboConfig(API_KEY, BASE_URL, transport=Logged()))
        try:
            context = GatewayContext(
                upstream=UpstreamAccess(
                    kombo=client, integration_id=integration, budget=UpstreamBudget(1000)
                ),
                cursor_key=CURSOR_KEY,
                request_id="request-1",
            )
            return await schema.execute(document, variable_values=variables, context_value=context)
        finally:
            await client.aclose()

    result = asyncio.run(go())
    errors = [error_body(e) for e in result.errors or []]
    return json.dumps({"data": result.data, "errors": errors}, ensure_ascii=False), sent


CASES = [
    # A page of 100 of every model of the default integration; 25 of the others' (their data
    # differs in shape: ids, nulls, missing models), to keep the run short.
    pytest.param(
        integration,
        model,
        100 if integration == ALL_INTEGRATIONS[0] else 25,
        id=f"{integration}-{model.name}",
    )
    for integration in ALL_INTEGRATIONS
    for model in CATALOG
    if model.path not in MODELS_NOT_AVAILABLE.get(integration, frozenset())
]


@pytest.mark.parametrize(("integration", "model", "first"), CASES)
def test_an_all_fields_page_of_every_model_is_the_same_with_and_without_the_fast_path(
    integration: str, model: Model, first: int
) -> None:
    document = all_fields_document(model, first)
    stats = FAST.execution_context_class.cache.stats  # type: ignore[union-attr]
    projected = stats.projected
    fast, fast_calls = run(FAST, document, integration)
    slow, slow_calls = run(SLOW, document, integration)
    assert fast == slow
    assert sorted(fast_calls) == sorted(slow_calls), "the same upstream requests either way"
    response = json.loads(fast)
    assert response["errors"] == []
    nodes = response["data"][model.plural]["nodes"]
    assert [n["id"] for n in nodes] == [
        f"gid://kombo/{model.name}/{p['id']}" for p in visible(integration, model.name)[:first]
    ]
    assert stats.projected > projected, "the fast path projected some of the page"


def test_the_documents_reach_into_every_kind_of_field() -> None:
    """The generated documents ask nested objects, unions, inline records and references."""
    interview = all_fields_document(CATALOG["Interview"])
    assert "application { __typename id komboId" in interview
    assert "stage { __typename id komboId" in interview
    assert "users { __typename id komboId" in interview
    job = all_fields_document(CATALOG["Job"])
    assert "contact { __typename" in job and "interviews" not in job.split("hiringTeam")[0]
    assert "screeningQuestions { __typename" in job
    assert "format { __typename ... on TextScreeningQuestionFormat" in job
    assert "TextScreeningQuestionFormat_displayType: displayType" in job


def test_not_null_wrapping_is_unwrapped_for_lists() -> None:
    """A list of non-null objects is expanded like the object itself."""
    schema = FAST._schema
    field = schema.get_type("Job").fields["stages"]  # type: ignore[union-attr]
    assert isinstance(field.type, GraphQLNonNull) and isinstance(field.type.of_type, GraphQLList)
    assert "stages { __typename id komboId" in all_fields_document(CATALOG["Job"])


RAW_CASES = [
    pytest.param(integration, model, id=f"{integration}-{model.name}")
    for integration in ALL_INTEGRATIONS
    for model in CATALOG
    if model.path not in MODELS_NOT_AVAILABLE.get(integration, frozenset())
]


@pytest.mark.parametrize(("integration", "model"), RAW_CASES)
def test_a_page_of_kombo_json_is_projected_without_reading_records(
    integration: str, model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: the bench's all-fields page (what the page inlines, no completions) of every
    model goes from Kombo's decoded JSON to the response in one projection: no record parsed for
    graphql-core, no value given back to it, the answer equal to graphql-core's own."""
    document = all_fields_page(model)
    materialized: list[str] = []
    read = fastpath.parse_record

    def counting(m: Model, raw: Any) -> Any:
        materialized.append(m.name)
        return read(m, raw)

    monkeypatch.setattr(fastpath, "parse_record", counting)
    stats = FAST.execution_context_class.cache.stats  # type: ignore[union-attr]
    before = (stats.projected, stats.fell_back)
    fast, fast_calls = run(FAST, document, integration, {"first": 100})
    assert (stats.projected - before[0], stats.fell_back - before[1]) == (1, 0)
    assert materialized == []
    assert len(fast_calls) == 1
    slow, _ = run(SLOW, document, integration, {"first": 100})
    assert fast == slow
    assert json.loads(fast)["errors"] == []
