"""An executed request is freed by reference counting: nothing of it waits for the collector.

graphql-core's executor holds resolver helpers bound to itself, a cycle that kept each
request's context (its upstream access, loaders and pages of Kombo's JSON) alive until a full
collection (:mod:`gateway.execution.executor`). With the collector off, the context of a request
that has answered must be gone, fast path on and off, for pages, inline records and id lookups
through the loaders. (A request whose field fails leaves graphql-core's exception cycles,
a traceback holding the frame that raised it, for the collector: errors are the rare case.)
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

import httpx
import pytest

from gateway.execution import executable_schema
from gateway.kombo import KomboClient, KomboConfig
from gateway.sandbox import ALL_INTEGRATIONS
from gateway.sandbox.app import create_sandbox_app
from gateway.schema import GatewayContext
from gateway.upstream import UpstreamAccess
from gateway.upstream.budget import UpstreamBudget
from tests.support.heap import collector_off, cyclic_garbage
from tests.support.record_truth import visible

API_KEY = "executor-heap-key"
BASE_URL = "http://sandbox.test/v1"
SANDBOX = create_sandbox_app(api_key=API_KEY)
SCHEMAS = {
    "fast path": executable_schema(fast_path=True),
    "graphql-core": executable_schema(fast_path=False),
}
INTERVIEW_IDS = [
    f"gid://kombo/Interview/{p['id']}" for p in visible(ALL_INTEGRATIONS[0], "Interview")[:20]
]
DOCUMENTS = {
    "a page": "{ interviews(first: 20) { edges { cursor node { id title startingAt } } } }",
    "inline records": (
        "{ interviews(first: 20) { nodes { id application { id candidate { id firstName } } } } }"
    ),
    "id lookups": (
        f"{{ nodes(ids: {json.dumps(INTERVIEW_IDS)}) {{ id ... on Interview {{ title "
        "application { id candidate { id firstName } } } } }"
    ),
}


Answered = tuple[weakref.ref[GatewayContext], weakref.ref[UpstreamAccess], Any]


def answered(schema: Any, document: str) -> Answered:
    """Weak references to the request's context and its upstream access (its loaders, pages and
    records) once the request has answered, and its result."""

    async def go() -> Answered:
        transport = httpx.ASGITransport(app=SANDBOX)
        client = KomboClient.open(KomboConfig(API_KEY, BASE_URL, transport=transport))
        try:
            context = GatewayContext(
                upstream=UpstreamAccess(
                    kombo=client, integration_id=ALL_INTEGRATIONS[0], budget=UpstreamBudget(100)
                ),
                cursor_key=b"executor-heap-cursor-key-32bytes",
                request_id="request-1",
            )
            result = await schema.execute(document, context_value=context)
            return weakref.ref(context), weakref.ref(context.upstream), result
        finally:
            await client.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("document", DOCUMENTS.values(), ids=DOCUMENTS.keys())
@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_a_request_is_freed_by_reference_counting(schema: Any, document: str) -> None:
    answered(schema, document)  # warm: plans, caches and imports are not the request's
    with collector_off():
        context, upstream, result = answered(schema, document)
        assert result.data is not None and not result.errors
        assert context() is None, "the request's context outlived it"
        assert upstream() is None, "the request's upstream access (its records) outlived it"


def test_a_request_leaves_no_cycle_of_the_gateway_or_graphql_core() -> None:
    for schema in SCHEMAS.values():
        answered(schema, DOCUMENTS["id lookups"])
    with cyclic_garbage() as garbage:
        for schema in SCHEMAS.values():
            *_references, result = answered(schema, DOCUMENTS["id lookups"])
            assert not result.errors
            del result
    ours = sorted(
        {
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in garbage
            if type(o).__module__.split(".")[0] in {"gateway", "graphql", "strawberry"}
        }
    )
    assert ours == []
