"""Hooks into the client's upstream calls, for metrics and tracing that live outside this package.

The client tells a :class:`KomboObserver` about each logical call (:meth:`~KomboObserver.call`:
one ``list_records`` that is not coalesced into another, retries included), each HTTP request
it makes for it (:meth:`~KomboObserver.attempt`, with an :class:`Attempt` the client fills in),
and each wait before a retry (:meth:`~KomboObserver.retrying`). The base class does nothing, so
``gateway.kombo`` imports neither Prometheus nor OpenTelemetry; :class:`Observers` chains several.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from gateway.kombo.errors import KomboAPIError, KomboError

RATE_LIMIT_CODES = frozenset(
    {
        "PLATFORM.RATE_LIMIT_EXCEEDED",
        "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
        "REMOTE.RATE_LIMIT_EXCEEDED",
    }
)
"""Kombo codes that mean "too many requests": a wait before retrying them is a rate-limit wait."""


def is_rate_limited(error: KomboError) -> bool:
    """True when Kombo (or the remote ATS behind it) refused the request as over a limit."""
    return isinstance(error, KomboAPIError) and (
        error.code in RATE_LIMIT_CODES or error.status == 429
    )


@dataclass(slots=True)
class Attempt:
    """One HTTP request to Kombo, as the client reports it to observers.

    The client creates it, passes it to :meth:`KomboObserver.attempt`, sends ``headers`` (which
    observers may fill, e.g. with W3C trace context) with the request, and sets ``status`` (the
    HTTP status, ``None`` when no answer came), ``error`` and ``duration`` (seconds from sending
    to the answer) before the observer's context exits.
    """

    endpoint: str
    integration_id: str
    number: int
    """1 for the first request of a call, 2 for its first retry, and so on."""
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None
    error: KomboError | None = None
    duration: float = 0.0

    @property
    def outcome(self) -> str:
        """A short, bounded label: the HTTP status, or what happened instead of an answer."""
        if self.status is not None:
            return str(self.status)
        if self.error is None:
            return "cancelled"
        name = type(self.error).__name__.removeprefix("Kombo")  # KomboConnectionError
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()  # connection_error


class KomboObserver:
    """Observes the client's upstream calls; every hook here does nothing. Override what you
    need; hooks must not raise."""

    def call(self, endpoint: str, integration_id: str) -> AbstractContextManager[object]:
        """Entered around one logical call: every attempt and wait it takes."""
        return nullcontext()

    def attempt(self, attempt: Attempt) -> AbstractContextManager[object]:
        """Entered around one HTTP request; ``attempt`` is complete when the context exits."""
        return nullcontext()

    def retrying(self, attempt: Attempt, delay: float, reason: str) -> None:
        """The call will retry after ``delay`` seconds, because ``attempt`` failed."""

    def cache_lookup(self, endpoint: str, hit: bool) -> None:
        """The response cache was asked for a page of ``endpoint``: ``hit`` when it had it."""


class Observers(KomboObserver):
    """Several observers, called in order (contexts entered in order, exited in reverse)."""

    def __init__(self, observers: Sequence[KomboObserver]) -> None:
        self.observers = tuple(observers)

    def call(self, endpoint: str, integration_id: str) -> AbstractContextManager[object]:
        return self._nest(o.call(endpoint, integration_id) for o in self.observers)

    def attempt(self, attempt: Attempt) -> AbstractContextManager[object]:
        return self._nest(o.attempt(attempt) for o in self.observers)

    def retrying(self, attempt: Attempt, delay: float, reason: str) -> None:
        for observer in self.observers:
            observer.retrying(attempt, delay, reason)

    def cache_lookup(self, endpoint: str, hit: bool) -> None:
        for observer in self.observers:
            observer.cache_lookup(endpoint, hit)

    @staticmethod
    @contextlib.contextmanager
    def _nest(contexts: Iterator[AbstractContextManager[object]]) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for context in contexts:
                stack.enter_context(context)
            yield


NO_OBSERVER = KomboObserver()
"""The observer of a client given none."""
