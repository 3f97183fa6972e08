"""Hostile documents and variables over a real gateway process (issue 8, findings 1, 6, 10).

Each worst case of ``bench.hostile.documents`` that the gateway answers cheaply gets its precise
answer within 100 ms of the server process's CPU (utime + stime from ``/proc/<pid>/stat``, the
best of 3 tries, one clock tick of noise allowed), while ``/healthz`` keeps answering; several
operations without ``operationName`` are a request error under both media types, over GET, POST
and persisted queries; clients that disconnect mid-body leave no traceback and count as
``client_disconnected``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench.hostile.documents import Case, cases, half_body_clients, outcome
from bench.procfs import cpu_seconds
from gateway.persisted import sha256_hex
from tests.support.servers import Server, free_port, gateway_env, start_server

# Run alone by `make test`, after the parallel part: it measures the server's CPU per request.
pytestmark = pytest.mark.serial

CPU_BUDGET = 0.100
NOISE = 0.011  # one clock tick (10 ms) of the tick-based counters, and a millisecond
TRIES = 3
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"

# Before issue 8: 1.5 s of CPU for 4,000 unknown keys, minutes for 1 MiB of them; 0.2 to 1.1 s for
# 10,000-token documents of 2,000 operations, 3,300 spreads, 1,400 directives, 100 __schema.
# Left (issue 8): 2,400 wrongly typed items of a list literal still cost ~100-130 ms to validate.
OVER_BUDGET: set[str] = set()
CHEAP = [case.name for case in cases() if case.name not in OVER_BUDGET]
CASES = {case.name: case for case in cases()}


@pytest.fixture(scope="module")
def server(sandbox_url: str, server_logs: Path) -> Iterator[Server]:
    port = free_port()
    env = gateway_env(sandbox_url, port)
    log = server_logs / "gateway-hostile-documents.log"
    with start_server(["serve"], env, "/readyz", port, log) as running:
        yield running


def _cpu_of(server: Server, case: Case, http: httpx.Client) -> tuple[float, str]:
    before = cpu_seconds(server.pid)
    response = case.send(http)
    return cpu_seconds(server.pid) - before, outcome(response)


@pytest.mark.parametrize("name", CHEAP)
def test_a_hostile_request_is_answered_cheaply(server: Server, name: str) -> None:
    case = CASES[name]
    with httpx.Client(base_url=server.url, timeout=60) as http:
        tries = [_cpu_of(server, case, http) for _ in range(TRIES)]
    assert {answer for _cpu, answer in tries} == {case.expect}
    best = min(cpu for cpu, _answer in tries)
    assert best <= CPU_BUDGET + NOISE, f"{name}: {best * 1000:.0f} ms of server CPU"


def test_healthz_answers_while_the_worst_variables_are_coerced(server: Server) -> None:
    case = CASES["unknown keys 1 MiB"]
    slowest = 0.0
    done = threading.Event()
    answers: list[str] = []

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for _ in range(5):
                answers.append(outcome(case.send(http)))
        done.set()

    sender = threading.Thread(target=send)
    sender.start()
    polls = 0
    with httpx.Client(base_url=server.url, timeout=30) as http:
        while not done.is_set() or polls < 5:
            started = time.perf_counter()
            assert http.get("/healthz").text == "ok"
            slowest = max(slowest, time.perf_counter() - started)
            polls += 1
    sender.join()
    assert answers == ["BAD_USER_INPUT"] * 5
    # Before: 2.2 s for 4,000 keys, no answer at all for 1 MiB of them.
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s"


# --- finding 10: several operations and no operationName --------------------------------------

SEVERAL = "query A { __typename } query B { __typename }"
MISSING_NAME = "Must provide operation name if query contains multiple operations."


@pytest.mark.parametrize(
    ("accept", "status"), [("application/json", 200), (GRAPHQL_RESPONSE_JSON, 400)]
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_several_operations_need_an_operation_name(
    server: Server, method: str, accept: str, status: int
) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        if method == "GET":
            response = http.get("/graphql", params={"query": SEVERAL}, headers={"Accept": accept})
            named = http.get(
                "/graphql",
                params={"query": SEVERAL, "operationName": "B"},
                headers={"Accept": accept},
            )
        else:
            response = http.post("/graphql", json={"query": SEVERAL}, headers={"Accept": accept})
            named = http.post(
                "/graphql",
                json={"query": SEVERAL, "operationName": "B"},
                headers={"Accept": accept},
            )
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)
    assert response.json() == {
        "errors": [{"message": MISSING_NAME, "extensions": {"code": "BAD_USER_INPUT"}}]
    }
    assert named.status_code == 200 and named.json() == {"data": {"__typename": "Query"}}


def test_several_operations_need_an_operation_name_by_persisted_hash(server: Server) -> None:
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(SEVERAL)}}
    headers = {"Accept": GRAPHQL_RESPONSE_JSON}
    refused = {"errors": [{"message": MISSING_NAME, "extensions": {"code": "BAD_USER_INPUT"}}]}
    with httpx.Client(base_url=server.url, timeout=10) as http:

        def post(**body: object) -> httpx.Response:
            return http.post("/graphql", json={"extensions": persisted, **body}, headers=headers)

        unnamed = post(query=SEVERAL)
        registered = post(query=SEVERAL, operationName="A")
        by_hash = post()
        by_hash_named = post(operationName="B")
    assert (unnamed.status_code, unnamed.json()) == (400, refused)
    assert registered.json() == {"data": {"__typename": "Query"}}
    assert (by_hash.status_code, by_hash.json()) == (400, refused)
    assert by_hash_named.json() == {"data": {"__typename": "Query"}}


# --- finding 6: clients that disconnect mid-body ------------------------------------------------


def _outcomes(server: Server) -> dict[str, float]:
    text = httpx.get(server.url + "/metrics", timeout=10).text
    totals: dict[str, float] = {}
    pattern = r'^kombo_gateway_graphql_requests_total\{[^}]*outcome="([a-z_]+)"[^}]*\} (\S+)$'
    for match in re.finditer(pattern, text, re.M):
        totals[match.group(1)] = totals.get(match.group(1), 0) + float(match.group(2))
    return totals


def test_clients_that_disconnect_mid_body_are_counted_quietly(server: Server) -> None:
    log_size = server.log.stat().st_size
    before = _outcomes(server)
    half_body_clients(server.url, 300)
    after = _outcomes(server)
    # The request's own line is written once its handling ends, which precedes the close the
    # client waited for; /metrics answering after that orders the log too.
    with server.log.open("rb") as log:
        log.seek(log_size)
        added = log.read().decode(errors="replace")
    assert after.get("client_disconnected", 0) - before.get("client_disconnected", 0) == 300
    assert after.get("internal_error", 0) == before.get("internal_error", 0)
    assert "Traceback" not in added
    assert "ClientDisconnect" not in added
    assert not [
        line for line in added.splitlines() if " ERROR " in line or '"level":"error"' in line
    ]
