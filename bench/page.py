"""Time one 100-interview, all-fields page through the gateway, beside the same page fetched
straight from the sandbox's REST endpoint, and count upstream requests per scenario.

    make bench-page          (or: .venv/bin/python -m bench.page --runs 200)

Both servers run as their own processes on loopback, as in the tests. Figures are wall-clock
per request from one sequential client (no concurrency), so they show the gateway's own cost
added to the upstream's; the full load harness is issue #4's.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

from gateway.sandbox.data import INTEGRATIONS, interviews_for
from tests.servers import Gateway, Sandbox, free_port, run_server

ALL_FIELDS = """
query Page($first: Int, $after: String) {
  interviews(first: $first, after: $after) {
    edges { cursor node {
      id remoteId title startingAt endingAt
      location { city country raw state street1 street2 zipCode }
      videoConferencingUrl applicationId stageId canceled remoteCreatedAt remoteUpdatedAt
      remoteData changedAt remoteDeletedAt
      users { id remoteId firstName lastName email }
      application { id remoteId outcome rejectionReasonName
        candidate { id remoteId firstName lastName emailAddresses { emailAddress type } }
        job { id remoteId name } }
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


JOB = """query($id: ID!) {
  interview(id: $id) { application { job { interviews(first: 100) { nodes { id } } } } }
}"""


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    for _ in range(max(3, runs // 10)):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return f"{name:<34} p50 {statistics.median(samples):7.2f} ms   p95 {q[94]:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    key = "bench-" + secrets.token_hex(8)
    logs = Path(tempfile.mkdtemp(prefix="kombo-bench-"))
    with ExitStack() as stack:
        sp, gp = free_port(), free_port()
        sandbox_url = stack.enter_context(
            run_server(
                ["sandbox", "--port", str(sp), "--api-key", key], {}, "/healthz", sp, logs / "s.log"
            )
        )
        gateway_url = stack.enter_context(
            run_server(
                ["serve"],
                {
                    "KOMBO_API_KEY": key,
                    "KOMBO_BASE_URL": sandbox_url + "/v1",
                    "KOMBO_INTEGRATION_ID": INTEGRATIONS[0],
                    "PORT": str(gp),
                },
                "/readyz",
                gp,
                logs / "g.log",
            )
        )
        gateway = Gateway(gateway_url)
        sandbox = Sandbox(sandbox_url)
        rest = httpx.Client(
            base_url=sandbox.api_url,
            headers={"Authorization": f"Bearer {key}", "X-Integration-Id": INTEGRATIONS[0]},
        )

        def via_gateway() -> None:
            data = gateway.query(ALL_FIELDS, {"first": 100})
            assert len(data["interviews"]["edges"]) == 100

        def via_rest() -> None:
            r = rest.get("/ats/interviews", params={"page_size": "100"})
            r.raise_for_status()
            assert len(r.json()["data"]["results"]) == 100

        g = timed(via_gateway, args.runs)
        r = timed(via_rest, args.runs)
        print(f"one page of 100 interviews, all fields, {args.runs} sequential requests")
        print(describe("gateway (GraphQL over HTTP)", g))
        print(describe("sandbox REST directly", r))
        print(f"{'gateway / REST (p50)':<34} {statistics.median(g) / statistics.median(r):7.2f} x")
        print(
            f"{'gateway overhead (p50)':<34} {statistics.median(g) - statistics.median(r):7.2f} ms"
        )

        print("\nupstream requests per scenario (from the sandbox's request log)")
        ids = [i.payload["id"] for i in interviews_for(INTEGRATIONS[0])]
        scenarios: dict[str, Callable[[], object]] = {
            "page all 241 with first=100": lambda: walk(gateway, 100),
            "60 aliased interview(id:) + nodes": lambda: gateway.query(
                "{"
                + " ".join(f'i{n}: interview(id: "{i}") {{ id }}' for n, i in enumerate(ids[:60]))
                + f' nodes(ids: ["{ids[70]}", "{ids[71]}"]) {{ id }} }}'
            ),
            "100-interview page, nested fields": via_gateway,
            "interview(id:) + its Job.interviews": lambda: gateway.query(JOB, {"id": ids[1]}),
        }
        for name, run in scenarios.items():
            sandbox.clear()
            run()
            print(f"  {name:<40} {len(sandbox.requests())}")


def walk(gateway: Gateway, first: int) -> None:
    after = None
    while True:
        page = gateway.query(ALL_FIELDS, {"first": first, "after": after})["interviews"]
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


if __name__ == "__main__":
    main()
