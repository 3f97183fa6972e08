"""When to try a Kombo request again, and how long to wait first.

Kombo asks clients to branch on its error ``code``, not the HTTP status, so the retryable
answers are named by code (:data:`RETRYABLE_CODES`). Besides those, a 502/503/504 without
Kombo's error body (a proxy or load balancer answering) and a request that failed in transit
(connection refused or dropped, or a timeout) are retried. ``GET /ats/interviews`` is
idempotent, so retrying a request Kombo may already have processed (a read timeout) is safe; it
only costs time, and every wait must fit in the caller's deadline. Nothing else is ever retried:
a malformed body, a 500 without a body, and every other Kombo code are final.

Waits are exponential backoff with full jitter (a uniform draw from zero to
``base_delay * 2**retry``, at most ``max_delay``), but never shorter than what the answer asked
for with ``Retry-After`` (seconds or an HTTP date) or ``ratelimit-reset`` (seconds until the
window resets; a value that large is read as a Unix time). When the asked-for wait exceeds
``max_delay``, or a wait does not fit in the caller's remaining time, the client stops at once
instead of waiting for an answer nobody will read.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Protocol

from gateway.kombo.errors import (
    KomboAPIError,
    KomboConnectionError,
    KomboError,
    KomboServerError,
    KomboTimeout,
)

RETRYABLE_CODES = frozenset(
    {
        "PLATFORM.RATE_LIMIT_EXCEEDED",
        "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
        "REMOTE.RATE_LIMIT_EXCEEDED",
        "REMOTE.SERVICE_UNAVAILABLE",
    }
)
"""Kombo error codes that mean "not now": the same request may succeed a moment later."""

RETRYABLE_STATUSES_WITHOUT_BODY = frozenset({502, 503, 504})
"""Statuses retried when the answer carries no Kombo error body (a proxy answered)."""

_UNIX_TIME_THRESHOLD = 1_000_000_000  # a "seconds" value this large is a point in time


class RetrySettings(Protocol):
    """The numbers a retry policy is made of, as a configuration holds them (the gateway's
    ``Resilience`` settings are one): retries at most, the first backoff's ceiling and the cap
    on every wait, in seconds."""

    @property
    def retries(self) -> int: ...

    @property
    def retry_base_delay(self) -> float: ...

    @property
    def retry_max_delay(self) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently the client retries (see the module docstring).

    ``max_retries`` retries at most (so ``max_retries + 1`` requests); ``base_delay`` the first
    backoff's ceiling in seconds, doubled per retry; ``max_delay`` caps every wait, the
    server-requested ones included: a longer ``Retry-After`` ends the retries.
    ``uniform`` draws the jitter (replaceable for tests).
    """

    max_retries: int = 3
    base_delay: float = 0.2
    max_delay: float = 5.0
    uniform: Callable[[float, float], float] = field(
        default=random.uniform, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay and max_delay must be 0 or more")

    @classmethod
    def following(cls, settings: RetrySettings) -> RetryPolicy:
        """The policy ``settings`` describe, with the default jitter."""
        return cls(settings.retries, settings.retry_base_delay, settings.retry_max_delay)

    @classmethod
    def never(cls) -> RetryPolicy:
        """A policy that makes every request exactly once."""
        return cls(max_retries=0)

    def backoff(self, retry: int) -> float:
        """The jittered backoff before retry number ``retry`` (0 for the first retry)."""
        ceiling = min(self.max_delay, self.base_delay * 2**retry)
        return self.uniform(0.0, ceiling) if ceiling > 0 else 0.0

    def decide(
        self, error: KomboError, retries_made: int, remaining: float | None
    ) -> RetryDecision:
        """Whether to retry after ``error`` and how long to wait first.

        ``remaining`` is the caller's time left in seconds (``None``: no deadline).
        """
        if not is_retryable(error):
            return RetryDecision(None, "not retryable")
        if retries_made >= self.max_retries:
            return RetryDecision(None, "retries used up")
        asked = error.retry_after or 0.0
        if asked > self.max_delay:
            return RetryDecision(
                None, f"Kombo asks to wait {asked:g} s, more than the {self.max_delay:g} s cap"
            )
        delay = max(asked, self.backoff(retries_made))
        if remaining is not None and delay >= remaining:
            return RetryDecision(
                None, f"waiting {delay:.2f} s would not fit in the {remaining:.2f} s left"
            )
        return RetryDecision(delay, f"retry {retries_made + 1} of {self.max_retries}")


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """``delay`` seconds to wait before retrying, or ``None`` to stop; ``reason`` says why."""

    delay: float | None
    reason: str

    @property
    def retry(self) -> bool:
        return self.delay is not None


def is_retryable(error: KomboError) -> bool:
    """True for answers and failures that may succeed when the same request is made again."""
    if isinstance(error, KomboAPIError):
        return error.code in RETRYABLE_CODES
    if isinstance(error, KomboServerError):
        return error.status in RETRYABLE_STATUSES_WITHOUT_BODY
    return isinstance(error, KomboConnectionError | KomboTimeout)


def requested_wait(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the answer asks the client to wait: the longer of ``Retry-After`` and
    ``ratelimit-reset``; ``None`` when it asks nothing (or nothing readable).

    ``headers`` is looked up case-insensitively when it is an ``httpx.Headers``; ``now`` is the
    Unix time to measure dates against (default: the current time).
    """
    now = time.time() if now is None else now
    waits = [
        wait
        for wait in (
            _seconds_or_date(_header(headers, "retry-after"), now),
            _seconds_or_date(_header(headers, "ratelimit-reset"), now),
        )
        if wait is not None
    ]
    return max(waits) if waits else None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:  # a plain dict with other capitalisation
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def _seconds_or_date(value: str | None, now: float) -> float | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000": RFC 9110 dates are GMT anyway
            when = when.replace(tzinfo=UTC)
        return max(0.0, when.timestamp() - now)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds >= _UNIX_TIME_THRESHOLD:
        return max(0.0, seconds - now)
    return seconds
