"""The response cache over real HTTP (README "Caching"): gateway processes, the sandbox upstream
whose request log counts upstream calls, and a real ``redis-server`` shared by two gateways.

- off by default: two identical queries are two upstream calls;
- on (``GATEWAY_CACHE_TTL``): the second is none, until the TTL has passed;
- never shared across integrations; error answers never cached; hits spend no upstream budget;
- two gateways over one Redis share pages and APQ documents;
- Redis stopped while a gateway runs: queries still succeed, from Kombo, and a warning is logged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.persisted import sha256_hex
from gateway.sandbox.data import INTEGRATIONS, interviews_for
from tests.support.clients import Gateway, Sandbox
from tests.support.redis_server import RedisServer, run_redis
from tests.support.secret_scanning import API_KEY
from tests.support.servers import DEFAULT_INTEGRATION, serve_gateway
from tests.support.truth import gid

PAGE_KEYS = "kombo-gateway:v1:records:*"
"""Where the Redis page store keeps upstream pages (``RedisPageStore``)."""
PAGE = "query Page($first: Int!) { interviews(first: $first) { nodes { id title } } }"
LOOKUP = "query Lookup($ids: [ID!]!) { nodes(ids: $ids) { id ... on Interview { title } } }"
SHORT_TTL = 1  # GATEWAY_CACHE_TTL of the gateway whose expiry is under test
TTL = 60  # the other gateways': nothing they cache expires during a test


def upstream_calls(sandbox: Sandbox) -> list[dict[str, Any]]:
    """The interviews requests the sandbox has answered since the test cleared its log."""
    return [r for r in sandbox.requests() if r["path"] == "/v1/ats/interviews"]


def ids_of(data: dict[str, Any]) -> list[str]:
    return [node["id"] for node in data["interviews"]["nodes"]]


def first_ids(integration: str, count: int) -> list[str]:
    """The Kombo ids of an integration's first interviews in upstream order (deleted ones left
    out, as upstream does by default)."""
    live = [i for i in interviews_for(integration) if i.payload.get("remote_deleted_at") is None]
    return [str(i.payload["id"]) for i in live[:count]]


@pytest.fixture(scope="module")
def cached(sandbox_url: str, server_logs: Path) -> Iterator[Gateway]:
    """A gateway caching pages in its own memory, with an upstream budget of 1 call."""
    log = server_logs / "gateway-cache-memory.log"
    with serve_gateway(
        sandbox_url, log, GATEWAY_CACHE_TTL=str(TTL), GATEWAY_UPSTREAM_BUDGET="1"
    ) as url:
        yield Gateway(url, secrets=(API_KEY,))


@pytest.fixture(scope="module")
def short_lived(sandbox_url: str, server_logs: Path) -> Iterator[Gateway]:
    """A gateway caching pages in its own memory for 1 s."""
    log = server_logs / "gateway-cache-short.log"
    with serve_gateway(sandbox_url, log, GATEWAY_CACHE_TTL=str(SHORT_TTL)) as url:
        yield Gateway(url, secrets=(API_KEY,))


@pytest.fixture(scope="module")
def replicas(
    sandbox_url: str, redis_server: RedisServer, server_logs: Path
) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateways over one Redis, as two replicas behind a load balancer."""
    shared = {"GATEWAY_CACHE_TTL": str(TTL), "GATEWAY_REDIS_URL": redis_server.url}
    with (
        serve_gateway(sandbox_url, server_logs / "gateway-cache-a.log", **shared) as a,
        serve_gateway(sandbox_url, server_logs / "gateway-cache-b.log", **shared) as b,
    ):
        yield Gateway(a, secrets=(API_KEY,)), Gateway(b, secrets=(API_KEY,))


# --- one gateway -----------------------------------------------------------------------------


def test_the_cache_is_off_by_default(gateway: Gateway, sandbox: Sandbox) -> None:
    first = gateway.query(PAGE, {"first": 4})
    second = gateway.query(PAGE, {"first": 4})
    assert first == second
    assert len(upstream_calls(sandbox)) == 2


def test_an_identical_query_is_served_from_the_cache_until_the_ttl(
    short_lived: Gateway, sandbox: Sandbox
) -> None:
    first = short_lived.query(PAGE, {"first": 6})
    cached_at = time.monotonic()  # the page was stored before this answer was sent
    assert len(upstream_calls(sandbox)) == 1
    assert short_lived.query(PAGE, {"first": 6}) == first
    assert len(upstream_calls(sandbox)) == 1
    # Past the TTL (the thing under test; at most 1.05 s), the page comes from Kombo again.
    time.sleep(max(0.0, cached_at + SHORT_TTL + 0.05 - time.monotonic()))
    assert short_lived.query(PAGE, {"first": 6}) == first
    assert len(upstream_calls(sandbox)) == 2


def test_id_lookups_are_cached_by_their_exact_ids(cached: Gateway, sandbox: Sandbox) -> None:
    wanted = first_ids(DEFAULT_INTEGRATION, 3)
    first = cached.query(LOOKUP, {"ids": [gid(i) for i in wanted]})
    assert [n["id"] for n in first["nodes"]] == [gid(i) for i in wanted]
    # The same ids, bare: the same upstream request, so the same cached page.
    assert cached.query(LOOKUP, {"ids": wanted}) == first
    assert len(upstream_calls(sandbox)) == 1
    (call,) = upstream_calls(sandbox)
    assert call["params"]["ids"] == ",".join(wanted)
    cached.query(LOOKUP, {"ids": wanted[:2]})  # other ids: another upstream request
    assert len(upstream_calls(sandbox)) == 2


def test_cached_pages_spend_no_upstream_budget(cached: Gateway, sandbox: Sandbox) -> None:
    both = """query Both {
      a: interviews(first: 7) { nodes { id } }
      b: interviews(first: 8) { nodes { id } }
    }"""
    cached.query("{ interviews(first: 7) { nodes { id } } }")  # the budget's one call
    # Within the TTL: "a" is a hit, so the one call left for this request serves "b".
    data = cached.query(both)
    assert len(data["a"]["nodes"]) == 7 and len(data["b"]["nodes"]) == 8
    assert len(upstream_calls(sandbox)) == 2
    # Without hits the same budget refuses the second call.
    errors = cached.errors(both.replace("7", "9").replace("8", "10"))
    assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COMPLEX"]


def test_error_answers_are_not_cached(cached: Gateway, sandbox: Sandbox) -> None:
    sandbox.fault(status=200, raw='{"status": "success", "data": ')  # malformed: final
    errors = cached.errors(PAGE, {"first": 11})
    assert errors[0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    sandbox.fault(
        status=400,
        body={
            "status": "error",
            "error": {"code": "PLATFORM.INPUT_INVALID", "title": "t", "message": "m"},
        },
    )
    errors = cached.errors(PAGE, {"first": 11})
    assert errors[0]["extensions"]["code"] == "PLATFORM.INPUT_INVALID"
    good = cached.query(PAGE, {"first": 11})  # goes upstream: nothing was cached
    assert len(upstream_calls(sandbox)) == 3
    assert cached.query(PAGE, {"first": 11}) == good  # the success is
    assert len(upstream_calls(sandbox)) == 3


# --- integrations ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["memory", "redis"])
def test_integrations_never_share_a_cached_page(
    where: str,
    cached: Gateway,
    replicas: tuple[Gateway, Gateway],
    empty_redis: RedisServer,
    sandbox: Sandbox,
) -> None:
    gateway = cached if where == "memory" else replicas[0]
    acme, globex = INTEGRATIONS[0], INTEGRATIONS[1]
    first = 12 if where == "memory" else 13

    def ask(integration: str) -> list[str]:
        data = gateway.query(PAGE, {"first": first}, headers={"X-Integration-Id": integration})
        return ids_of(data)

    assert ask(acme) == [gid(i) for i in first_ids(acme, first)]
    assert ask(globex) == [gid(i) for i in first_ids(globex, first)]
    calls = upstream_calls(sandbox)
    assert [c["integration_id"] for c in calls] == [acme, globex]
    assert calls[0]["params"] == calls[1]["params"]  # only the integration tells them apart
    # Cached now (within the TTL), and each still sees its own.
    assert ask(globex) == [gid(i) for i in first_ids(globex, first)]
    assert ask(acme) == [gid(i) for i in first_ids(acme, first)]
    assert len(upstream_calls(sandbox)) == 2
    if where == "redis":
        keys = [k.decode() for k in empty_redis.client().keys(PAGE_KEYS)]
        assert len(keys) == 2
        assert not any(acme in k or globex in k for k in keys)


# --- replicas over one Redis -----------------------------------------------------------------


def test_two_gateways_over_one_redis_share_the_cache(
    replicas: tuple[Gateway, Gateway], empty_redis: RedisServer, sandbox: Sandbox
) -> None:
    a, b = replicas
    on_a = a.query(PAGE, {"first": 5})
    assert len(upstream_calls(sandbox)) == 1
    assert b.query(PAGE, {"first": 5}) == on_a
    assert len(upstream_calls(sandbox)) == 1
    wanted = first_ids(DEFAULT_INTEGRATION, 4)
    on_b = b.query(LOOKUP, {"ids": wanted})
    assert a.query(LOOKUP, {"ids": wanted}) == on_b
    assert len(upstream_calls(sandbox)) == 2


def test_a_page_expired_in_redis_is_fetched_again(
    replicas: tuple[Gateway, Gateway], empty_redis: RedisServer, sandbox: Sandbox
) -> None:
    a, b = replicas
    a.query(PAGE, {"first": 3})
    (key,) = empty_redis.client().keys(PAGE_KEYS)
    assert 0 < empty_redis.client().ttl(key) <= TTL
    empty_redis.client().pexpire(key, 1)  # its TTL, run out now
    deadline = time.monotonic() + 1
    while empty_redis.client().exists(key) and time.monotonic() < deadline:
        time.sleep(0.01)
    b.query(PAGE, {"first": 3})
    assert len(upstream_calls(sandbox)) == 2


def test_a_document_registered_on_one_gateway_is_served_by_hash_on_the_other(
    replicas: tuple[Gateway, Gateway], empty_redis: RedisServer
) -> None:
    a, b = replicas
    document = "query SharedDocument { interviews(first: 2) { nodes { id } } }"
    hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(document)}}

    def post(gateway: Gateway, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{gateway.url}/graphql", json=body, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert post(b, {"extensions": hashed})["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = post(a, {"query": document, "extensions": hashed})
    assert "errors" not in registered
    assert post(b, {"extensions": hashed}) == registered
    assert empty_redis.client().exists(f"kombo-gateway:v1:apq:{sha256_hex(document)}")


# --- Redis outage ----------------------------------------------------------------------------


def test_redis_stopped_under_a_running_gateway_degrades_to_no_cache(
    sandbox_url: str, sandbox: Sandbox, server_logs: Path, tmp_path: Path
) -> None:
    log = server_logs / "gateway-cache-outage.log"
    with (
        run_redis(tmp_path / "redis", server_logs / "redis-outage.log") as redis,
        serve_gateway(
            sandbox_url,
            log,
            GATEWAY_CACHE_TTL=str(TTL),
            GATEWAY_REDIS_URL=redis.url,
        ) as url,
    ):
        gateway = Gateway(url, secrets=(API_KEY,))
        first = gateway.query(PAGE, {"first": 4})
        assert gateway.query(PAGE, {"first": 4}) == first
        assert len(upstream_calls(sandbox)) == 1
        redis.stop()
        for expected_calls in (2, 3):  # every query still answered, from Kombo
            assert gateway.query(PAGE, {"first": 4}) == first
            assert len(upstream_calls(sandbox)) == expected_calls
        # APQ without Redis: a hash it cannot look up is "not found"; the document still runs.
        document = "query AfterTheOutage { interviews(first: 1) { nodes { id } } }"
        hashed = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(document)}}
        body = {"query": document, "extensions": hashed}
        response = httpx.post(f"{url}/graphql", json=body, timeout=30)
        assert response.status_code == 200 and "errors" not in response.json()
    text = log.read_text()
    assert f"Redis at redis://127.0.0.1:{redis.port}/0 is unavailable" in text
    assert text.count("is unavailable") == 1  # one warning per outage, not one per query
