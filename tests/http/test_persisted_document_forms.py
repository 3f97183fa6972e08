"""Persisted documents in the forms clients produce (README "Persisted queries"), in-process over
the embedded sandbox: Apollo's `extensions.persistedQuery.sha256Hash` with or without a
`sha256:` prefix, the GraphQL-over-HTTP `documentId: "sha256:<hex>"` (POST body, GET parameter),
in APQ mode and in trusted-documents mode with a manifest exactly as GraphQL Code Generator's
client preset writes `persisted-documents.json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast

from gateway.persisted import sha256_hex
from tests.support.clients import Gateway
from tests.support.in_process import in_process_gateway
from tests.support.persisted_documents import persisted

# What the client preset writes: each document printed by graphql-js (multi-line, two-space
# indentation), keyed by its hash, the file itself JSON.stringify(documents, null, 2).
COUNT = print_ast(parse("query Count { interviews(first: 2) { nodes { id } } }"))
FIRST = print_ast(parse("query First { interviews(first: 1) { pageInfo { hasNextPage } } }"))
COUNT_HASH = sha256_hex(COUNT)
FIRST_HASH = sha256_hex(FIRST)
UNKNOWN = "0" * 64


@pytest.fixture(scope="module")
def apq() -> Iterator[Gateway]:
    with in_process_gateway({}) as gateway:
        yield gateway


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    manifest = tmp_path_factory.mktemp("codegen") / "persisted-documents.json"
    codegen = {f"sha256:{COUNT_HASH}": COUNT, FIRST_HASH: FIRST}
    manifest.write_text(json.dumps(codegen, indent=2))
    with in_process_gateway({"GATEWAY_TRUSTED_DOCUMENTS": str(manifest)}) as gateway:
        yield gateway


def post(gateway: Gateway, body: dict[str, Any]) -> httpx.Response:
    return gateway.http.post("/graphql", json=body, headers={"Accept": "application/json"})


def get(gateway: Gateway, **params: str) -> httpx.Response:
    return gateway.http.get("/graphql", params=params, headers={"Accept": "application/json"})


def nodes(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return list(body["data"]["interviews"]["nodes"])


def code_of(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


def test_the_codegen_manifest_loads_unchanged(trusted: Gateway) -> None:
    assert len(nodes(post(trusted, {"documentId": f"sha256:{COUNT_HASH}"}))) == 2
    first = post(trusted, {"documentId": f"sha256:{FIRST_HASH}"})
    assert first.json()["data"]["interviews"]["pageInfo"] == {"hasNextPage": True}


@pytest.mark.parametrize("mode", ["apq", "trusted"])
@pytest.mark.parametrize(
    "form",
    [
        pytest.param(lambda h: {"extensions": persisted(h)}, id="apollo-hex"),
        pytest.param(lambda h: {"extensions": persisted(f"sha256:{h}")}, id="apollo-prefixed"),
        pytest.param(lambda h: {"extensions": persisted(f"sha256:{h.upper()}")}, id="apollo-upper"),
        pytest.param(lambda h: {"documentId": f"sha256:{h}"}, id="documentId"),
    ],
)
def test_every_form_by_post_and_get(mode: str, form: Any, request: pytest.FixtureRequest) -> None:
    gateway: Gateway = request.getfixturevalue(mode)
    if mode == "apq":  # register the document once, as an APQ client does after a miss
        assert nodes(post(gateway, {"query": COUNT, "extensions": persisted(COUNT_HASH)}))
    body = form(COUNT_HASH)
    assert len(nodes(post(gateway, body))) == 2
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in body.items()}
    assert len(nodes(get(gateway, **params))) == 2


def test_apq_registers_a_document_sent_with_its_document_id(apq: Gateway) -> None:
    document = "query ById { interviews(first: 3) { nodes { id } } }"
    document_id = f"sha256:{sha256_hex(document)}"
    miss = post(apq, {"documentId": document_id})
    assert miss.status_code == 200 and code_of(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert len(nodes(post(apq, {"documentId": document_id, "query": document}))) == 3
    assert len(nodes(get(apq, documentId=document_id))) == 3


@pytest.mark.parametrize(("mode", "status"), [("apq", 200), ("trusted", 400)])
def test_an_unknown_document_id_is_not_found_as_today(
    mode: str, status: int, request: pytest.FixtureRequest
) -> None:
    gateway: Gateway = request.getfixturevalue(mode)
    for response in (
        post(gateway, {"documentId": f"sha256:{UNKNOWN}"}),
        get(gateway, documentId=f"sha256:{UNKNOWN}"),
        post(gateway, {"extensions": persisted(UNKNOWN)}),
    ):
        assert response.status_code == status
        assert code_of(response) == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("mode", ["apq", "trusted"])
@pytest.mark.parametrize(
    "document_id", [COUNT_HASH, f"sha1:{COUNT_HASH[:40]}", f"sha256:{COUNT_HASH[:63]}", "", 7]
)
def test_a_malformed_document_id_is_bad_user_input_naming_it(
    mode: str, document_id: object, request: pytest.FixtureRequest
) -> None:
    gateway: Gateway = request.getfixturevalue(mode)
    responses = [post(gateway, {"documentId": document_id})]
    if isinstance(document_id, str):
        responses.append(get(gateway, documentId=document_id))
    for response in responses:
        assert response.status_code == 400
        assert code_of(response) == "BAD_USER_INPUT"
        assert '"documentId"' in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("mode", ["apq", "trusted"])
def test_a_document_id_must_agree_with_the_query_and_the_apollo_hash(
    mode: str, request: pytest.FixtureRequest
) -> None:
    gateway: Gateway = request.getfixturevalue(mode)
    agree = post(gateway, {"documentId": f"sha256:{COUNT_HASH}", "query": COUNT})
    assert len(nodes(agree)) == 2
    for body in (
        {"documentId": f"sha256:{COUNT_HASH}", "query": FIRST},
        {"documentId": f"sha256:{COUNT_HASH}", "extensions": persisted(FIRST_HASH)},
    ):
        response = post(gateway, body)
        assert response.status_code == 400
        assert code_of(response) == "BAD_USER_INPUT"
        assert '"documentId"' in response.json()["errors"][0]["message"]
    mismatch = post(gateway, {"query": COUNT, "extensions": persisted(f"sha256:{FIRST_HASH}")})
    assert mismatch.status_code == 400 and code_of(mismatch) == "BAD_USER_INPUT"


def test_with_apq_off_a_document_id_is_not_supported() -> None:
    with in_process_gateway({"GATEWAY_APQ": "false"}) as gateway:
        response = post(gateway, {"documentId": f"sha256:{COUNT_HASH}"})
    assert response.status_code == 200
    assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
