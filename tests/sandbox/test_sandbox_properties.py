"""Properties over random queries: any combination of an endpoint's filters, walked at any page
size, returns exactly the records every filter keeps (AND across parameters), each once."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.kombo.catalog import CATALOG, Model
from gateway.sandbox import create_sandbox_app, records_for
from tests.sandbox.endpoint_truth import after, payloads, samples, truth
from tests.sandbox.sandbox_calls import API_KEY, DEFAULT_INTEGRATION, HEADERS

MODELS = list(CATALOG)


APP = create_sandbox_app(api_key=API_KEY)


async def walk(model: Model, params: dict[str, str]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    cursor = None
    transport = httpx.ASGITransport(app=APP)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=HEADERS
    ) as http:
        while True:
            query = {**params, **({"cursor": cursor} if cursor else {})}
            response = await http.get(f"/v1{model.path}", params=query)
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            results += data["results"]
            cursor = data["next"]
            if cursor is None:
                return results


@st.composite
def queries(draw: st.DrawFn) -> tuple[Model, dict[str, str]]:
    model = draw(st.sampled_from(MODELS))
    filters = [p for p in model.params if p.kind != "boolean"]
    chosen = draw(st.lists(st.sampled_from(filters), max_size=3, unique_by=lambda p: p.name))
    params = {
        p.name: draw(st.sampled_from(samples(DEFAULT_INTEGRATION, model.name, p))) for p in chosen
    }
    params["page_size"] = str(draw(st.integers(1, 60)))
    if draw(st.booleans()):
        params["include_deleted"] = "true"
    return model, params


@settings(max_examples=60, deadline=None)
@given(queries())
def test_any_filter_combination_at_any_page_size_returns_exactly_the_kept_records(
    query: tuple[Model, dict[str, str]],
) -> None:
    model, params = query
    records = {p["id"]: p for p in payloads(DEFAULT_INTEGRATION, model.name)}
    updated = {r.payload["id"]: r.updated_at for r in records_for(DEFAULT_INTEGRATION, model.name)}
    expected = [
        p["id"]
        for p in records.values()
        if (params.get("include_deleted") == "true" or p["remote_deleted_at"] is None)
        and all(
            after(raw, updated[p["id"]])
            if name == "updated_after"
            else truth(model.name, name, raw, p)
            for name, raw in params.items()
            if name not in ("page_size", "include_deleted")
        )
    ]
    got = [p["id"] for p in anyio.run(walk, model, params)]
    assert got == expected
