"""Faults of the sandbox, for testing a client's resilience end to end.

- A queued fault ``{status, body | raw, headers, times, delay}`` (``POST /__sandbox/faults``)
  answers the next ``times`` requests with that status, body and headers (``Retry-After``,
  ``ratelimit-reset``, ...) after ``delay`` seconds; ``{"delay": s}`` alone answers normally,
  ``s`` seconds late (a hang, when ``s`` exceeds the client's patience).
- Standing scenarios (:data:`FAULT_SCENARIOS`, e.g. ``rate-limit``), chosen when the app is
  created: ``python -m gateway sandbox --faults rate-limit`` or ``SANDBOX_FAULTS`` for the
  gateway's embedded sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

__all__ = ["FAULT_SCENARIOS", "Fault", "Scenario", "kombo_error_body", "parse_fault"]


@dataclass(slots=True)
class Fault:
    """A canned answer; with ``status`` ``None``, the normal answer ``delay`` seconds late."""

    status: int | None
    body: Any
    raw: str | None
    headers: dict[str, str]
    times: int
    delay: float

    def as_json(self) -> dict[str, Any]:
        """The fault as ``GET /__sandbox/faults`` lists it."""
        return {name: getattr(self, name) for name in Fault.__slots__}

    def response(self) -> Response | None:
        """The canned answer, or ``None`` to answer normally."""
        if self.status is None:
            return None
        if self.raw is not None:
            content = self.raw.encode()
        elif self.body is not None:
            content = json.dumps(self.body, ensure_ascii=False).encode()
        else:
            content = b""
        return Response(content, self.status, self.headers, media_type="application/json")


def parse_fault(spec: Any) -> Fault:
    """The fault a ``POST /__sandbox/faults`` body describes; ``ValueError`` says what is
    wrong with it."""
    if not isinstance(spec, dict):
        raise ValueError("expected a JSON object")
    unknown = spec.keys() - set(Fault.__slots__)
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    status, raw, headers = spec.get("status"), spec.get("raw"), spec.get("headers") or {}
    times, delay = spec.get("times", 1), spec.get("delay", 0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or delay < 0:
        raise ValueError("`delay` must be a non-negative number of seconds")
    pass_through = status is None and raw is None and spec.get("body") is None and not headers
    if pass_through and not delay:
        raise ValueError("`status` is required (or `delay` alone, for a late normal answer)")
    if not pass_through and (
        not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599
    ):
        raise ValueError("`status` must be an HTTP status code")
    if raw is not None and not isinstance(raw, str):
        raise ValueError("`raw` must be a string or null")
    if raw is not None and spec.get("body") is not None:
        raise ValueError("give `body` or `raw`, not both")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError("`headers` must map strings to strings")
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise ValueError("`times` must be a positive integer")
    return Fault(status, spec.get("body"), raw, headers, times, float(delay))


def kombo_error_body(code: str, title: str, message: str) -> dict[str, Any]:
    """Kombo's error envelope, with no ``log_url``."""
    return {
        "status": "error",
        "error": {"code": code, "title": title, "message": message, "log_url": None},
    }


@dataclass(frozen=True, slots=True)
class Scenario:
    """A standing fault: every ``period``-th endpoint request gets ``fault``; plus latency
    and a concurrency limit."""

    description: str
    period: int = 1
    fault: Fault | None = None
    latency: float = 0.0
    max_in_flight: int | None = None


FAULT_SCENARIOS: Mapping[str, Scenario] = {
    "rate-limit": Scenario(
        "every 2nd request: 429 PLATFORM.RATE_LIMIT_EXCEEDED with Retry-After: 1",
        period=2,
        fault=Fault(
            429,
            kombo_error_body(
                "PLATFORM.RATE_LIMIT_EXCEEDED",
                "Rate limit exceeded.",
                "You have exceeded the rate limit of the sandbox. Retry after 1 second.",
            ),
            None,
            {"Retry-After": "1"},
            1,
            0.0,
        ),
    ),
    "flaky": Scenario(
        "every 2nd request: 502 with an HTML body (a proxy failing)",
        period=2,
        fault=Fault(
            502, None, "<html>502 Bad Gateway</html>", {"Content-Type": "text/html"}, 1, 0.0
        ),
    ),
    "down": Scenario(
        "every request: 503 REMOTE.SERVICE_UNAVAILABLE",
        fault=Fault(
            503,
            kombo_error_body(
                "REMOTE.SERVICE_UNAVAILABLE",
                "The remote system is unavailable.",
                "The sandbox ATS is down for maintenance.",
            ),
            None,
            {},
            1,
            0.0,
        ),
    ),
    "malformed": Scenario(
        "every 3rd request: 200 with a truncated JSON body",
        period=3,
        fault=Fault(200, None, '{"status": "success", "data": {"next": null, "res', {}, 1, 0.0),
    ),
    "slow": Scenario("every answer 2 s late", latency=2.0),
    "hang": Scenario("every answer 120 s late (longer than any deadline)", latency=120.0),
    "busy": Scenario(
        "at most 1 request in flight; more get 429 PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
        max_in_flight=1,
    ),
}
"""Standing fault scenarios by name (``--faults`` / ``SANDBOX_FAULTS``, comma-separated)."""
