"""The ten endpoints over HTTP: paging, every filter against an independent computation,
parameter validation, cursors bound to their endpoint, lacking models and unsupported filters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.kombo.catalog import CATALOG, Model, Param
from gateway.sandbox import (
    ALL_INTEGRATIONS,
    MODELS_NOT_AVAILABLE,
    UNSUPPORTED_FILTERS,
    records_for,
    shared_ids_for,
)
from tests.sandbox.endpoint_truth import after, filter_params, payloads, samples, truth
from tests.sandbox.sandbox_calls import DEFAULT_INTEGRATION, assert_input_invalid, walk

pytestmark = pytest.mark.anyio

MODELS = list(CATALOG)
MODEL_IDS = [m.name for m in MODELS]
WORKDAY = "workday:initech"


def v1(model: Model) -> str:
    return f"/v1{model.path}"


def has(integration: str, model: Model) -> bool:
    return model.path not in MODELS_NOT_AVAILABLE.get(integration, ())


async def listing(
    client: httpx.AsyncClient,
    model: Model,
    params: dict[str, str],
    integration: str = DEFAULT_INTEGRATION,
    page_size: str = "250",
) -> list[dict[str, Any]]:
    pages = await walk(
        client,
        {"page_size": page_size, **params},
        path=v1(model),
        headers={"X-Integration-Id": integration},
    )
    return [p for page in pages for p in page]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [p["id"] for p in items]


@pytest.mark.parametrize(
    ("integration", "model"),
    [(i, m) for i in ALL_INTEGRATIONS for m in MODELS if has(i, m)],
    ids=[f"{i}-{m.name}" for i in ALL_INTEGRATIONS for m in MODELS if has(i, m)],
)
async def test_paging_walks_every_record_once_in_upstream_order(
    client: httpx.AsyncClient, integration: str, model: Model
) -> None:
    everything = payloads(integration, model.name)
    live = [p for p in everything if p["remote_deleted_at"] is None]
    assert await listing(client, model, {}, integration, page_size="7") == live
    shown = await listing(client, model, {"include_deleted": "true"}, integration, "3")
    assert shown == everything


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
async def test_the_default_page_holds_100_and_the_last_page_says_next_null(
    client: httpx.AsyncClient, model: Model
) -> None:
    response = await client.get(v1(model), params={"include_deleted": "true"})
    data = response.json()["data"]
    total = len(records_for(DEFAULT_INTEGRATION, model.name))
    assert len(data["results"]) == min(total, 100)
    assert (data["next"] is None) == (total <= 100)


@pytest.mark.parametrize(
    ("model_name", "param"),
    filter_params(),
    ids=[f"{m}-{p.name}" for m, p in filter_params()],
)
@pytest.mark.parametrize("integration", [DEFAULT_INTEGRATION, "greenhouse:globex"])
async def test_each_filter_keeps_what_the_spec_describes(
    client: httpx.AsyncClient, integration: str, model_name: str, param: Param
) -> None:
    model = CATALOG[model_name]
    everything = payloads(integration, model.name)
    kept_any = dropped_any = False
    for raw in samples(integration, model.name, param):
        for include_deleted in ("false", "true"):
            expected = [
                p
                for p in everything
                if truth(model.name, param.name, raw, p)
                and (include_deleted == "true" or p["remote_deleted_at"] is None)
            ]
            params = {param.name: raw, "include_deleted": include_deleted}
            assert ids(await listing(client, model, params, integration)) == ids(expected), raw
            kept_any |= bool(expected)
            dropped_any |= len(expected) < len(everything)
    assert kept_any and dropped_any


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
async def test_updated_after_compares_the_hidden_updated_at_strictly(
    client: httpx.AsyncClient, model: Model
) -> None:
    records = records_for(DEFAULT_INTEGRATION, model.name)
    for raw in samples(DEFAULT_INTEGRATION, model.name, model.param("updated_after")):
        expected = [r.payload["id"] for r in records if after(raw, r.updated_at)]
        params = {"updated_after": raw, "include_deleted": "true"}
        assert ids(await listing(client, model, params)) == expected


async def test_deprecated_single_value_filters_are_still_accepted(
    client: httpx.AsyncClient,
) -> None:
    applications, jobs = CATALOG["Application"], CATALOG["Job"]
    hired = await listing(client, applications, {"outcomes": "HIRED"})
    assert hired and await listing(client, applications, {"outcome": "HIRED"}) == hired
    both = {"outcome": "HIRED", "outcomes": "PENDING,DECLINED"}
    assert await listing(client, applications, both) == []
    opened = await listing(client, jobs, {"statuses": "OPEN"})
    assert opened and await listing(client, jobs, {"status": "OPEN"}) == opened
    assert_input_invalid(await client.get(v1(jobs), params={"status": "OPEN,CLOSED"}), "status")
    assert_input_invalid(await client.get(v1(applications), params={"outcome": "x"}), "outcome")
    assert_input_invalid(await client.get(v1(CATALOG["Tag"]), params={"status": "OPEN"}), "status")


async def test_ids_lookups_find_only_the_endpoints_own_model(client: httpx.AsyncClient) -> None:
    """An id several models hold finds, on each endpoint, that endpoint's record only."""
    for shared, models in shared_ids_for(DEFAULT_INTEGRATION).items():
        for model in MODELS:
            found = await listing(client, model, {"ids": shared, "include_deleted": "true"})
            assert [p["id"] for p in found] == ([shared] if model.name in models else [])
            if found:
                own = {p["id"]: p for p in payloads(DEFAULT_INTEGRATION, model.name)}
                assert found == [own[shared]]


# -- validation --------------------------------------------------------------------------


def bad_values(param: Param) -> list[str]:
    if param.kind == "datetime":
        return ["yesterday", "2024-13-01", "2024-02-30T00:00:00Z", "2024-01-01T10:00Z", ""]
    if param.kind == "boolean":
        return ["TRUE", "1", "yes", ""]
    if param.kind == "enums":
        return ["", "a,,b", "open", "PENDING,", "UNKNOWN_VALUE"]
    if param.kind in ("ids", "strings"):
        return ["", ",", "a,,b", "a,"]
    if param.name == "email":
        return ["", "not-an-email", "a@b"]
    return [""]


@pytest.mark.parametrize(
    ("model_name", "param"),
    [(m.name, p) for m in MODELS for p in m.params],
    ids=[f"{m.name}-{p.name}" for m in MODELS for p in m.params],
)
async def test_invalid_values_are_input_invalid(
    client: httpx.AsyncClient, model_name: str, param: Param
) -> None:
    for raw in bad_values(param):
        response = await client.get(v1(CATALOG[model_name]), params={param.name: raw})
        assert_input_invalid(response, param.name)


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
async def test_only_the_endpoints_own_parameters_are_accepted(
    client: httpx.AsyncClient, model: Model
) -> None:
    own = {p.name for p in model.params}
    others = {p.name for m in MODELS for p in m.params} - own - {"outcome", "status"}
    for name in [*sorted(others), "pageSize", "outcome_ids"]:
        response = await client.get(v1(model), params={name: "x"})
        assert_input_invalid(response, name)
    for page_size in ("0", "251", "abc"):
        assert_input_invalid(
            await client.get(v1(model), params={"page_size": page_size}), "page_size"
        )


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
async def test_cursors_are_bound_to_their_endpoint_and_parameters(
    client: httpx.AsyncClient, model: Model
) -> None:
    params = {"page_size": "2", "include_deleted": "true"}
    cursor = (await client.get(v1(model), params=params)).json()["data"]["next"]
    assert cursor is not None
    ok = await client.get(v1(model), params={**params, "cursor": cursor})
    assert ok.status_code == 200
    for other in MODELS:
        if other is not model:
            response = await client.get(v1(other), params={**params, "cursor": cursor})
            assert_input_invalid(response, "cursor")
    changed = {"page_size": "2", "include_deleted": "false", "cursor": cursor}
    assert_input_invalid(await client.get(v1(model), params=changed), "cursor")


# -- integrations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("integration", "path"),
    sorted((i, p) for i, paths in MODELS_NOT_AVAILABLE.items() for p in paths),
)
async def test_a_lacking_model_answers_model_not_available(
    client: httpx.AsyncClient, integration: str, path: str
) -> None:
    response = await client.get(f"/v1{path}", headers={"X-Integration-Id": integration})
    assert response.status_code == 403
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "INTEGRATION.MODEL_NOT_AVAILABLE"
    assert path.rsplit("/", 1)[-1] in body["error"]["message"]


@pytest.mark.parametrize("model", MODELS, ids=MODEL_IDS)
async def test_an_unknown_integration_is_not_found_on_every_endpoint(
    client: httpx.AsyncClient, model: Model
) -> None:
    response = await client.get(v1(model), headers={"X-Integration-Id": "nope:unknown"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "PLATFORM.INTEGRATION_NOT_FOUND"


@pytest.mark.parametrize(
    ("model", "name"),
    [
        (m, p.name)
        for m in MODELS
        for p in m.params
        if p.name in UNSUPPORTED_FILTERS[WORKDAY] and has(WORKDAY, m)
    ],
    ids=[
        f"{m.name}-{p.name}"
        for m in MODELS
        for p in m.params
        if p.name in UNSUPPORTED_FILTERS[WORKDAY] and has(WORKDAY, m)
    ],
)
async def test_unsupported_filters_empty_the_result_unless_ignored(
    client: httpx.AsyncClient, model: Model, name: str
) -> None:
    value = samples(DEFAULT_INTEGRATION, model.name, model.param(name))[0]
    assert await listing(client, model, {name: value}, WORKDAY) == []
    ignored = await listing(
        client, model, {name: value, "ignore_unsupported_filters": "true"}, WORKDAY
    )
    live = [p for p in payloads(WORKDAY, model.name) if p["remote_deleted_at"] is None]
    assert ignored == live


async def test_faults_and_the_request_log_cover_every_endpoint(client: httpx.AsyncClient) -> None:
    await client.delete("/__sandbox/requests")
    fault = {"status": 503, "body": {"status": "error"}, "times": len(MODELS)}
    assert (await client.post("/__sandbox/faults", json=fault)).status_code == 201
    for model in MODELS:
        assert (await client.get(v1(model))).status_code == 503
    assert (await client.get(v1(CATALOG["Job"]))).status_code == 200
    logged = (await client.get("/__sandbox/requests")).json()["requests"]
    assert [r["path"] for r in logged] == [v1(m) for m in MODELS] + [v1(CATALOG["Job"])]
