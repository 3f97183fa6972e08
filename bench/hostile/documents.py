"""Hostile GraphQL documents and variables (issue 8, findings 1, 6 and 10), against a real gateway.

    .venv/bin/python -m bench.hostile.documents [--timeout 20] [--only NAME]

Starts one gateway process on loopback (sandbox mode: no API key, the sandbox in-process, auth
``none``), sends each case of :data:`CASES` alone while a thread polls ``/healthz``, and prints
per case: the answer (HTTP status, first error code), wall time, the server's CPU time
(utime + stime from ``/proc/<pid>/stat``), the slowest ``/healthz`` answer meanwhile, and RSS.
A case still running after ``--timeout`` seconds is reported as such and the gateway restarted
(before the fix the 1 MiB unknown-keys body ran for minutes).

Then finding 10 (several operations, no ``operationName``) and finding 6 (300 clients that
send half a body and close: ERROR/traceback lines in the log, ``outcome`` counts in /metrics).
Every case is also in ``tests/e2e/test_hostile_documents.py`` (:func:`cases` is shared).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bench.procfs import cpu_seconds
from bench.servers import Server, free_port, run_server

__all__ = ["CASES", "Case", "cases", "gateway", "half_body_clients", "main"]

BODY_LIMIT = 1_048_576
"""The gateway's default ``GATEWAY_MAX_BODY_BYTES``: every case fits in it."""
MAX_TOKENS = 5_000
"""The default ``GATEWAY_MAX_TOKENS`` (10,000 before issue 8): every document stays under it."""
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


@dataclass(frozen=True)
class Case:
    """One hostile request: how to send it, and the answer it must get."""

    name: str
    body: dict[str, Any] | None = None
    """A POST ``application/json`` body; None for a GET with :attr:`params`."""
    params: dict[str, str] | None = None
    expect: str = "BAD_USER_INPUT"
    """The first error's code, or ``data`` for an answer with data and no error."""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode()

    def send(self, http: httpx.Client) -> httpx.Response:
        headers = {"Accept": GRAPHQL_RESPONSE_JSON, **self.headers}
        if self.body is None:
            return http.get("/graphql", params=self.params, headers=headers)
        headers["Content-Type"] = "application/json"
        return http.post("/graphql", content=self.encoded(), headers=headers)


def _fill(make: Callable[[int], Any], budget: int) -> list[Any]:
    """``make(0), make(1), ...`` for as many items as fit ``budget`` bytes of JSON."""
    items, size, index = [], 0, 0
    while True:
        item = make(index)
        size += len(json.dumps(item, separators=(",", ":"))) + 1
        if size > budget:
            return items
        items.append(item)
        index += 1


def _keys(count: int, *, value: Any = 0) -> dict[str, Any]:
    return {f"k{index}": value for index in range(count)}


def _keys_within(budget: int) -> dict[str, Any]:
    # "k123456":0, is 12 bytes at most
    return _keys(budget // 12)


def _repeat(unit: str, tokens_per_unit: int, overhead: int = 4) -> str:
    return unit * ((MAX_TOKENS - overhead - 10) // tokens_per_unit)


FILTER_QUERY = "query($f: InterviewFilter){ interviews(first:1, filter:$f){ nodes{id} } }"
NODES_QUERY = "query($ids: [ID!]!){ nodes(ids:$ids){ id } }"
ROOM = BODY_LIMIT - 1024  # the rest of the body: query, braces


def cases() -> list[Case]:
    """The worst requests found, each within the 1 MiB body and the 5,000-token limits."""
    many_vars = (MAX_TOKENS - 20) // 7  # "$v1:ID!" is 5 tokens, "$v1" in the list 2 more
    n_ops = MAX_TOKENS // 5  # "query Q1 { __typename }" is 5 tokens
    return [
        # Finding 1 as filed: unknown keys of an input object, 4,000 / 16,000 / 1 MiB of them.
        Case("unknown keys x4000", {"query": FILTER_QUERY, "variables": {"f": _keys(4_000)}}),
        Case("unknown keys x16000", {"query": FILTER_QUERY, "variables": {"f": _keys(16_000)}}),
        Case("unknown keys 1 MiB", {"query": FILTER_QUERY, "variables": {"f": _keys_within(ROOM)}}),
        # ... at several levels: list items that are objects full of unknown keys.
        Case(
            "objects in an ID list 1 MiB",
            {
                "query": NODES_QUERY,
                "variables": {"ids": [_keys(1_000) for _ in range(ROOM // 12_000)]},
            },
        ),
        # One error per item of a huge list (an object where an ID goes).
        Case(
            "bad items in an ID list 1 MiB",
            {"query": NODES_QUERY, "variables": {"ids": _fill(lambda _i: {}, ROOM)}},
        ),
        # A valid list of 100,000+ ids (the resolver takes 1,000): refused before coercion.
        Case(
            "huge ids list 1 MiB",
            {"query": NODES_QUERY, "variables": {"ids": _fill(str, ROOM)}},
            expect="BAD_USER_INPUT",
        ),
        # A 1 MiB unknown key: its name goes into graphql-core's message verbatim.
        Case("one 1 MiB unknown key", {"query": FILTER_QUERY, "variables": {"f": {"x" * ROOM: 0}}}),
        # A 1 MiB string where an enum-like or short value goes.
        Case(
            "1 MiB string filter value",
            {"query": FILTER_QUERY, "variables": {"f": {"ids": ["x" * ROOM]}}},
        ),
        Case(
            "1 MiB after cursor",
            {
                "query": "query($a: String){ interviews(first:1, after:$a){ nodes{id} } }",
                "variables": {"a": "x" * ROOM},
            },
        ),
        Case(
            "1 MiB bad DateTime",
            {"query": FILTER_QUERY, "variables": {"f": {"updatedAfter": "x" * ROOM}}},
        ),
        # Deeply nested lists where a list of IDs goes (JSON parsers stop at ~1,000 levels).
        Case(
            "nested lists 500 deep",
            {"query": NODES_QUERY, "variables": {"ids": json.loads("[" * 500 + "]" * 500)}},
        ),
        # Many variable definitions, each given a wrong value.
        Case(
            "variables all wrong",
            {
                "query": "query("
                + ",".join(f"$v{i}:ID!" for i in range(many_vars))
                + "){ nodes(ids:["
                + ",".join(f"$v{i}" for i in range(many_vars))
                + "]){ id } }",
                "variables": {f"v{i}": {"k": "x" * 300} for i in range(many_vars)},
            },
            expect="QUERY_TOO_COMPLEX",
        ),
        # Many unknown top-level variables (ignored by the spec).
        Case(
            "unknown variables 1 MiB",
            {"query": "{ __typename }", "variables": _keys_within(ROOM)},
            expect="data",
        ),
        # OverlappingFieldsCanBeMerged is quadratic in fields of one response name.
        Case(
            "same field x9990",
            {"query": "{" + _repeat(" __typename", 1) + "}"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "same field, conflicting args",
            {"query": "{" + _repeat(' interview(id:"1"){id}', 9) + "}"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "same field, nested x2000",
            {"query": "{" + _repeat(" interviews{nodes{id}}", 7) + "}"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "same fragment spread x3300",
            {"query": "{" + _repeat(" ...F", 2) + "} fragment F on Query { __typename }"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "fragments fan-out",
            {
                "query": "{ ...F0 } "
                + " ".join(
                    f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(40)
                )
                + " fragment F40 on Query { __typename }"
            },
            expect="data",
        ),
        Case(
            "inline fragments x2500",
            {"query": "{" + _repeat(" ...{__typename}", 4) + "}"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "repeated directive x1400",
            {"query": "{ __typename" + _repeat(" @skip(if:false)", 7) + "}"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "@include with variable x1100",
            {
                "query": "query($v:Boolean!){"
                + _repeat(" __typename @include(if:$v)", 9, 12)
                + "}",
                "variables": {"v": True},
            },
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "introspection x100 aliases",
            {
                "query": "{"
                + " ".join(
                    f"a{i}: __schema {{ types {{ name fields {{ name args {{ name }} "
                    f"type {{ name ofType {{ name ofType {{ name }} }} }} }} }} }}"
                    for i in range(100)
                )
                + "}"
            },
            expect="QUERY_TOO_COMPLEX",
        ),
        # Valid documents as large as the token limit allows, within the document bounds.
        Case(
            "operations x99, one chosen",
            {
                "query": " ".join(f"query Q{i} {{ " + "__typename " * 10 + "}" for i in range(99)),
                "operationName": "Q98",
            },
            expect="data",
        ),
        Case(
            "fields x999 in 9 levels",
            {
                "query": "{"
                + " interviews(first:1){nodes{application{job{interviews(first:1){nodes{"
                + "__typename " * 993
                + "}}}}}}}"
            },
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "ids literal x1000 + strings",
            {
                "query": "{ nodes(ids:[" + ",".join(f'"{i}"' for i in range(1_000)) + "]){ id } }",
            },
            expect="data",
        ),
        Case(
            "variables x100 used, defaults",
            {
                "query": "query("
                + ",".join(
                    f"$v{i}:[ID!]=["
                    + ",".join(f'"{j}"' for j in range(MAX_TOKENS // 100 - 25))
                    + "]"
                    for i in range(100)
                )
                + "){"
                + " ".join(f"a{i}: nodes(ids:$v{i}){{id}}" for i in range(100))
                + "}"
            },
            expect="data",
        ),
        Case(
            "all wrong ids literal, as long as the tokens allow",
            {"query": "{ nodes(ids:[" + ",".join(["{}"] * ((MAX_TOKENS - 20) // 3)) + "]){ id } }"},
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "all wrong ids literal x1000",
            {"query": "{ nodes(ids:[" + ",".join(["{}"] * 1000) + "]){ id } }"},
        ),
        Case(
            "many operations, one chosen",
            {
                "query": " ".join(f"query Q{i} {{ __typename }}" for i in range(n_ops)),
                "operationName": f"Q{n_ops - 1}",
            },
            expect="QUERY_TOO_COMPLEX",
        ),
        Case(
            "unknown persisted hash",
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * 64}}},
            expect="PERSISTED_QUERY_NOT_FOUND",
        ),
        Case(
            "persisted hash 1 MiB",
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "a" * ROOM}}},
        ),
        Case(
            "GET unknown keys within the URL limit",
            params={
                "query": FILTER_QUERY,
                "variables": json.dumps({"f": _keys_within(10_000)}, separators=(",", ":")),
            },
        ),
    ]


CASES = [case.name for case in cases()]


def outcome(response: httpx.Response) -> str:
    """What a case expects: the first error's code, or ``data``."""
    try:
        body = response.json()
    except ValueError:
        return f"not JSON ({response.status_code})"
    errors = body.get("errors")
    if errors:
        return str(errors[0].get("extensions", {}).get("code"))
    return "data" if body.get("data") is not None else "no data"


def rss_mib(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of ``pid`` in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


@contextmanager
def gateway(log: Path, **env: str) -> Iterator[Server]:
    """A gateway in sandbox mode on a free loopback port."""
    port = free_port()
    environment = {"PORT": str(port), "HOST": "127.0.0.1", "LOG_FORMAT": "json", **env}
    with run_server("gateway", ["gateway", "serve"], environment, "/readyz", port, log) as server:
        yield server


class HealthPoller:
    """Polls ``/healthz`` in a thread while a block runs; :attr:`slowest` is the slowest answer
    (a poll that gets no answer within the block counts as the whole wait)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._stop = threading.Event()
        self.slowest = 0.0
        self.polls = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(600)) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                with suppress(httpx.HTTPError):
                    http.get(self._url + "/healthz")
                self.slowest = max(self.slowest, time.perf_counter() - started)
                self.polls += 1
                self._stop.wait(0.02)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)


def run_case(server: Server, case: Case, timeout: float) -> dict[str, Any]:
    """Send ``case`` alone; its figures. Raises TimeoutError when the gateway is still busy."""
    with httpx.Client(base_url=server.url, timeout=timeout) as http:
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        with HealthPoller(server.url) as health:
            try:
                response = case.send(http)
            except httpx.TimeoutException:
                raise TimeoutError from None
        wall = time.perf_counter() - started
        cpu = cpu_seconds(server.pid) - cpu_before
    rss, hwm = rss_mib(server.pid)
    return {
        "status": response.status_code,
        "answer": outcome(response),
        "expected": case.expect,
        "wall_ms": round(wall * 1000, 1),
        "cpu_ms": round(cpu * 1000),
        "healthz_max_ms": round(health.slowest * 1000, 1),
        "response_bytes": len(response.content),
        "rss_mib": round(rss, 1),
        "hwm_mib": round(hwm, 1),
    }


# --- finding 10 and finding 6 ----------------------------------------------------------------


def several_operations(server: Server) -> list[str]:
    """Several operations, no operationName, each way a client can send them."""
    document = "query A { __typename } query B { __typename }"
    lines = []
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for accept in ("application/json", GRAPHQL_RESPONSE_JSON):
            for method in ("POST", "GET"):
                if method == "POST":
                    response = http.post(
                        "/graphql", json={"query": document}, headers={"Accept": accept}
                    )
                else:
                    response = http.get(
                        "/graphql", params={"query": document}, headers={"Accept": accept}
                    )
                lines.append(f"  {method} {accept:36} {response.status_code} {response.text[:150]}")
    return lines


def half_body_clients(url: str, count: int) -> None:
    """``count`` clients that each send a POST's head with ``Content-Length: 2000``, half of the
    body, and close (one at a time, each waiting until the server has read the half)."""
    host, port = url.removeprefix("http://").split(":")
    head = (
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nContent-Length: 2000\r\n\r\n"
    )
    for _ in range(count):
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(head + b"{" + b" " * 999)
            sock.shutdown(socket.SHUT_WR)
            # The server closes (or answers) once it has seen the disconnect; reading blocks
            # until then, so clients do not pile up.
            sock.settimeout(10)
            try:
                while sock.recv(65536):
                    pass
            except (TimeoutError, ConnectionResetError):
                pass


def outcomes(server: Server) -> dict[str, float]:
    """``kombo_gateway_graphql_requests_total`` by outcome, summed over operations."""
    text = httpx.get(server.url + "/metrics", timeout=10).text
    totals: dict[str, float] = {}
    for match in re.finditer(
        r'^kombo_gateway_graphql_requests_total\{[^}]*outcome="([a-z_]+)"[^}]*\} (\S+)$', text, re.M
    ):
        totals[match.group(1)] = totals.get(match.group(1), 0) + float(match.group(2))
    return totals


def disconnects(server: Server, count: int) -> list[str]:
    log_before = server.log.stat().st_size
    before = outcomes(server)
    cpu_before = cpu_seconds(server.pid)
    started = time.perf_counter()
    half_body_clients(server.url, count)
    wall = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_before
    # One more request, answered, so that the last disconnect's log line is flushed.
    httpx.get(server.url + "/healthz", timeout=10)
    after = outcomes(server)
    with server.log.open("rb") as log:
        log.seek(log_before)
        added = log.read().decode(errors="replace")
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in after}
    error_lines = sum(
        1 for line in added.splitlines() if '"level":"error"' in line or "ERROR" in line
    )
    return [
        f"  {count} clients: {wall:.2f} s wall, {cpu * 1000:.0f} ms server CPU",
        f"  log: +{len(added.encode()) / 1024:.1f} KiB, "
        f"{added.count('Traceback')} tracebacks, "
        f"{error_lines} error lines",
        f"  outcomes added: {json.dumps({k: v for k, v in delta.items() if v})}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per case")
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--clients", type=int, default=300, help="half-body clients (finding 6)")
    args = parser.parse_args()
    selected = [case for case in cases() if not args.only or args.only in case.name]
    with tempfile.TemporaryDirectory(prefix="hostile-documents-") as directory:
        log = Path(directory) / "gateway.log"
        print(f"finding 1: hostile documents ({len(selected)} cases, timeout {args.timeout:g} s)")
        print(
            f"  {'case':34} {'body':>8} {'status':>6} {'answer':26} {'wall ms':>9} "
            f"{'cpu ms':>7} {'healthz':>8} {'RSS':>6} {'HWM':>6}"
        )
        pending = list(selected)
        while pending:
            with gateway(log) as server:
                while pending:
                    case = pending.pop(0)
                    size = (
                        len(case.encoded())
                        if case.body is not None
                        else len(urlencode(case.params or {}))
                    )
                    try:
                        figures = run_case(server, case, args.timeout)
                    except TimeoutError:
                        print(
                            f"  {case.name:34} {size:>8} {'-':>6} {'(still running)':26} "
                            f"{'>' + str(int(args.timeout * 1000)):>9}   (gateway restarted)"
                        )
                        break  # the gateway is busy for minutes: start a fresh one
                    flag = "" if figures["answer"] == case.expect else f"  (expected {case.expect})"
                    print(
                        f"  {case.name:34} {size:>8} {figures['status']:>6} "
                        f"{figures['answer']:26} {figures['wall_ms']:>9} {figures['cpu_ms']:>7} "
                        f"{figures['healthz_max_ms']:>8} {figures['rss_mib']:>6} "
                        f"{figures['hwm_mib']:>6}{flag}"
                    )
        with gateway(log) as server:
            print("finding 10: query A {__typename} query B {__typename}, no operationName")
            for line in several_operations(server):
                print(line)
            print("finding 6: clients that send half a body and close")
            for line in disconnects(server, args.clients):
                print(line)


if __name__ == "__main__":
    main()
