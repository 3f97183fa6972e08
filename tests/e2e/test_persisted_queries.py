"""Persisted queries over real HTTP (README "Persisted queries").

First Apollo Client's own persisted-queries link (npm `@apollo/client`, in tests/e2e/apq/)
against the live gateway: the first run sends the hash, hears `PersistedQueryNotFound`, and
retries with the full query; the second run sends the hash alone and is served. Then the
protocol's corners with httpx, and gateways started for this module with APQ off and in
trusted-documents mode.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.persisted import sha256_hex
from tests.support.servers import DEFAULT_INTEGRATION, ROOT, free_port, run_server
from tests.support.truth import gid, visible

APQ_DIR = Path(__file__).parent / "apq"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
UNCACHEABLE = "no-store"

LISTED = "query Listed($first: Int!) { interviews(first: $first) { nodes { id title } } }"
LISTED_INTROSPECTION = "query Types { __schema { queryType { name } } }"
UNLISTED = "query Unlisted { interviews(first: 1) { nodes { id } } }"


def probe_query(name: str) -> str:
    """A document no other test sends: the session's gateway keeps what it registered."""
    return (
        f"query {name}_{secrets.token_hex(4)} {{ interviews(first: 3) {{ nodes {{ id title }} }} }}"
    )


def persisted(document: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha256_hex(document)}}


def post(url: str, body: dict[str, Any], accept: str = GRAPHQL_RESPONSE_JSON) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json=body, headers={"Accept": accept}, timeout=30)


def get(url: str, params: dict[str, Any], accept: str = GRAPHQL_RESPONSE_JSON) -> httpx.Response:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return httpx.get(f"{url}/graphql", params=encoded, headers={"Accept": accept}, timeout=30)


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "data" not in body, body
    assert len(body["errors"]) == 1, body
    return dict(body["errors"][0])


def expected_nodes(count: int) -> list[dict[str, Any]]:
    """The first interviews of the default integration, from the sandbox's own data."""
    return [
        {"id": gid(record.payload["id"]), "title": record.payload["title"]}
        for record in visible(DEFAULT_INTEGRATION)[:count]
    ]


# --- Apollo Client's persisted-queries link --------------------------------------------------


def run_apollo(url: str, document: str, variables: dict[str, Any], *, use_get: bool) -> Any:
    node = shutil.which("node")
    assert node, "node is required for the Apollo Client test"
    assert (APQ_DIR / "node_modules" / "@apollo" / "client").is_dir(), "run `make apq-deps` first"
    args = [node, str(APQ_DIR / "apq.mjs"), f"{url}/graphql", document, json.dumps(variables)]
    run = subprocess.run(
        [*args, *(["--get"] if use_get else [])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"the Apollo Client script failed:\n{run.stderr}"
    return json.loads(run.stdout)["runs"]


def without_typenames(value: Any) -> Any:
    # Apollo's cache adds __typename to every selection; the truth has none.
    if isinstance(value, dict):
        return {k: without_typenames(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [without_typenames(v) for v in value]
    return value


@pytest.mark.parametrize("use_get", [False, True], ids=["POST", "GET for hashes"])
def test_apollo_client_registers_on_a_miss_then_sends_only_the_hash(
    gateway_url: str, use_get: bool
) -> None:
    name = f"ApolloApq{'Get' if use_get else 'Post'}_{secrets.token_hex(4)}"
    document = (
        f"query {name}($first: Int!) {{ interviews(first: $first) {{ nodes {{ id title }} }} }}"
    )

    first, second = run_apollo(gateway_url, document, {"first": 3}, use_get=use_get)

    # First page load: the hash alone, not found, then the full query beside the same hash.
    miss, registration = first["exchanges"]
    sha256_hash = _sent_hash(miss)
    assert miss["method"] == ("GET" if use_get else "POST")
    assert "query" not in (miss["body"] or {}) and "query=" not in miss["url"]
    assert miss["status"] == 200
    assert miss["cacheControl"] == UNCACHEABLE
    assert miss["response"] == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert registration["method"] == "POST"  # Apollo sends full documents by POST
    assert _sent_hash(registration) == sha256_hash == sha256_hex(registration["body"]["query"])
    assert registration["status"] == 200 and "errors" not in registration["response"]

    # Second page load: the hash alone is served.
    (hit,) = second["exchanges"]
    assert hit["method"] == ("GET" if use_get else "POST")
    assert "query" not in (hit["body"] or {}) and "query=" not in hit["url"]
    assert _sent_hash(hit) == sha256_hash
    assert hit["status"] == 200 and "errors" not in hit["response"]

    # And the answers are right: the sandbox's first three interviews, both times.
    expected = {"interviews": {"nodes": expected_nodes(3)}}
    for run in (first, second):
        assert run["errors"] is None
        assert without_typenames(run["data"]) == expected
    assert without_typenames(hit["response"]["data"]) == expected


def _sent_hash(exchange: dict[str, Any]) -> str:
    if exchange["body"] is not None:
        extensions = exchange["body"]["extensions"]
    else:
        query = httpx.URL(exchange["url"]).params
        extensions = json.loads(query["extensions"])
    return str(extensions["persistedQuery"]["sha256Hash"])


# --- the protocol with httpx -----------------------------------------------------------------


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
def test_unknown_hash_is_not_found_with_status_200_for_either_media_type(
    gateway_url: str, accept: str
) -> None:
    response = post(gateway_url, {"extensions": persisted(probe_query("Unknown"))}, accept)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert response.headers["cache-control"] == UNCACHEABLE
    assert only_error(response) == {
        "message": "PersistedQueryNotFound",
        "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
    }


def test_get_with_only_the_hash_in_the_extensions_parameter(gateway_url: str) -> None:
    document = probe_query("Get")
    hash_only = {"extensions": persisted(document)}

    assert only_error(get(gateway_url, hash_only))["extensions"]["code"] == (
        "PERSISTED_QUERY_NOT_FOUND"
    )
    registered = get(gateway_url, {"query": document, **hash_only})  # urql may register by GET
    assert registered.status_code == 200, registered.text
    served = get(gateway_url, hash_only)

    assert served.status_code == 200
    assert (
        served.json() == registered.json() == {"data": {"interviews": {"nodes": expected_nodes(3)}}}
    )


def test_a_hash_registered_by_post_is_served_with_variables_and_operation_name(
    gateway_url: str,
) -> None:
    operation = f"Pick_{secrets.token_hex(4)}"
    document = (
        f"query {operation}($first: Int!) {{ interviews(first: $first) {{ nodes {{ id }} }} }} "
        "query B { __typename }"
    )
    request = {"operationName": operation, "variables": {"first": 2}}
    registered = post(
        gateway_url, {"query": document, **request, "extensions": persisted(document)}
    )
    assert registered.status_code == 200, registered.text

    served = post(gateway_url, {**request, "extensions": persisted(document)})
    other = post(gateway_url, {"operationName": "B", "extensions": persisted(document)})

    ids = [{"id": node["id"]} for node in expected_nodes(2)]
    assert served.json() == {"data": {"interviews": {"nodes": ids}}}
    assert other.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
def test_a_hash_that_is_not_the_querys_is_refused(gateway_url: str, accept: str) -> None:
    document = probe_query("Mismatch")
    response = post(
        gateway_url, {"query": document, "extensions": persisted(document + " ")}, accept
    )

    assert response.status_code == 400
    assert only_error(response) == {
        "message": "provided sha does not match query",
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    # Nothing was registered under the wrong hash.
    missed = post(gateway_url, {"extensions": persisted(document + " ")})
    assert only_error(missed)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.parametrize("version", [2, "1", None])
def test_unsupported_versions_are_bad_user_input(gateway_url: str, version: object) -> None:
    document = probe_query("Version")
    response = post(gateway_url, {"query": document, "extensions": persisted(document, version)})

    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("Unsupported persisted query version")


@pytest.mark.parametrize(
    "extension",
    [{"version": 1}, {"version": 1, "sha256Hash": "abc"}, "hash", [1]],
    ids=["no hash", "short hash", "string", "list"],
)
def test_malformed_extensions_are_bad_user_input(gateway_url: str, extension: object) -> None:
    response = post(gateway_url, {"extensions": {"persistedQuery": extension}})

    assert response.status_code == 400
    assert only_error(response)["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_request_with_neither_query_nor_hash_is_still_400(gateway_url: str) -> None:
    response = post(gateway_url, {"extensions": {"other": True}}, JSON)

    assert response.status_code == 400
    assert "query" in only_error(response)["message"]


def test_a_document_over_the_token_limit_sent_with_its_hash_is_refused_quickly_unstored(
    gateway_url: str,
) -> None:
    # ~790 KB, 20,000 fragments: the registration used to parse and validate it in full, with
    # no limit, before the schema's own pipeline (seconds of blocked event loop). Now the
    # token limit stops the parser, hash or not, and nothing is registered.
    document = f"query Huge_{secrets.token_hex(4)} {{ __typename }}\n" + "\n".join(
        f"fragment F{i} on Query {{ __typename }}" for i in range(20_000)
    )
    started = time.perf_counter()
    response = post(gateway_url, {"query": document, "extensions": persisted(document)})
    elapsed = time.perf_counter() - started

    assert response.status_code == 400
    assert only_error(response) == {
        "message": "token count exceeds the limit of 5000 (GATEWAY_MAX_TOKENS); the document "
        "was not parsed further",
        "extensions": {"code": "QUERY_TOO_COMPLEX"},
    }
    assert elapsed < 1.0
    missed = post(gateway_url, {"extensions": persisted(document)})
    assert only_error(missed)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


# --- GATEWAY_APQ=false -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def apq_off_url(server_logs: Path) -> Iterator[str]:
    port = free_port()
    env = {"KOMBO_API_KEY": "", "HOST": "127.0.0.1", "PORT": str(port), "GATEWAY_APQ": "false"}
    with run_server(["serve"], env, "/readyz", port, server_logs / "gateway-apq-off.log") as url:
        yield url


@pytest.mark.parametrize("with_query", [False, True], ids=["hash only", "hash and query"])
def test_apq_off_answers_not_supported(apq_off_url: str, with_query: bool) -> None:
    document = probe_query("Off")
    body = {"extensions": persisted(document), **({"query": document} if with_query else {})}

    response = post(apq_off_url, body)

    assert response.status_code == 200
    assert response.headers["cache-control"] == UNCACHEABLE
    assert only_error(response) == {
        "message": "PersistedQueryNotSupported",
        "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
    }
    # What Apollo Client and urql then do: the same request without the extension.
    assert post(apq_off_url, {"query": document}).json() == {
        "data": {"interviews": {"nodes": expected_nodes(3)}}
    }


# --- trusted documents -----------------------------------------------------------------------


def apollo_manifest(*documents: str) -> str:
    return json.dumps(
        {
            "format": "apollo-persisted-query-manifest",
            "version": 1,
            "operations": [
                {
                    "id": sha256_hex(body),
                    "name": body.split()[1].split("(")[0],
                    "type": "query",
                    "body": body,
                }
                for body in documents
            ],
        }
    )


@pytest.fixture(scope="module")
def trusted_url(server_logs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    manifest = tmp_path_factory.mktemp("trusted") / "persisted-query-manifest.json"
    manifest.write_text(apollo_manifest(LISTED, LISTED_INTROSPECTION))
    port = free_port()
    env = {
        "KOMBO_API_KEY": "",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
    }
    with run_server(["serve"], env, "/readyz", port, server_logs / "gateway-trusted.log") as url:
        yield url


LISTED_ANSWER = {"data": {"interviews": {"nodes": expected_nodes(2)}}}


def test_a_listed_document_runs_by_hash_over_post_and_get(trusted_url: str) -> None:
    body = {"variables": {"first": 2}, "extensions": persisted(LISTED)}

    assert post(trusted_url, body).json() == LISTED_ANSWER
    assert get(trusted_url, body).json() == LISTED_ANSWER


def test_a_listed_document_runs_by_full_text(trusted_url: str) -> None:
    plain = {"query": LISTED, "variables": {"first": 2}}

    assert post(trusted_url, plain).json() == LISTED_ANSWER
    assert post(trusted_url, {**plain, "extensions": persisted(LISTED)}).json() == LISTED_ANSWER


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, JSON])
def test_an_unlisted_document_is_refused_with_400(trusted_url: str, accept: str) -> None:
    response = post(trusted_url, {"query": UNLISTED}, accept)

    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert error["message"].startswith("only trusted documents may run")


def test_an_unknown_hash_is_not_found_with_400_and_nothing_registers(trusted_url: str) -> None:
    registration = post(trusted_url, {"query": UNLISTED, "extensions": persisted(UNLISTED)})
    assert registration.status_code == 400
    assert only_error(registration)["extensions"] == {"code": "BAD_USER_INPUT"}

    response = post(trusted_url, {"extensions": persisted(UNLISTED)}, JSON)

    assert response.status_code == 400
    error = only_error(response)
    assert error["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert "trusted-documents manifest" in error["message"]


def test_introspection_runs_only_when_listed(trusted_url: str) -> None:
    listed = post(trusted_url, {"query": LISTED_INTROSPECTION})
    unlisted = post(trusted_url, {"query": "{ __schema { types { name } } }"})

    assert listed.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert unlisted.status_code == 400


def test_a_bad_manifest_stops_the_start_naming_the_entry(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    bad = "query Broken { interviews(first: 1) { nodes { noSuchField } } }"
    manifest.write_text(apollo_manifest(LISTED, bad))
    env = {
        **os.environ,
        "KOMBO_API_KEY": "",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "GATEWAY_TRUSTED_DOCUMENTS": str(manifest),
    }

    run = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2, run.stderr
    assert (
        f"kombo-gateway: configuration error: GATEWAY_TRUSTED_DOCUMENTS ({manifest}), "
        "operations[1] (Broken): the document is invalid: Cannot query field 'noSuchField'"
    ) in run.stderr
