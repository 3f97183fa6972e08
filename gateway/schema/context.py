"""Per-request state: the caller's integration, the Kombo client, the loaders and a page memo.

One :class:`GatewayContext` per GraphQL request, created inside the running event loop (the
DataLoader binds the loop it is created in). Everything a resolver needs comes from here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from aiodataloader import DataLoader

from gateway.admission import AdmissionTicket
from gateway.errors import (
    BadUserInput,
    GatewayError,
    UpstreamError,
    UpstreamGaveUp,
    UpstreamUnavailable,
)
from gateway.kombo import (
    MAX_PAGE_SIZE,
    Deadline,
    InterviewPage,
    InterviewQuery,
    KomboAPIError,
    KomboClient,
    KomboError,
    KomboRetriesExhausted,
)
from gateway.kombo.models import Interview
from gateway.redaction import Redactor
from gateway.schema.limits import UpstreamBudget

DEFAULT_REQUEST_TIMEOUT = 10.0  # seconds; the app passes GATEWAY_REQUEST_TIMEOUT's deadline
Redact = Callable[[str], str]

ObserveBatch = Callable[[str, int], None]
"""Told of each DataLoader batch: the loader's name and its number of keys."""


class Spans(Protocol):
    """Where the resolvers' upstream work is timed: the app passes the process's spans."""

    def span(
        self, name: str, attributes: Mapping[str, Any] | None = None
    ) -> AbstractContextManager[object]:
        """A context manager around one piece of upstream work."""
        ...


_NO_SPAN: AbstractContextManager[None] = contextlib.nullcontext()


class NoSpans:
    """No spans: every piece of upstream work runs unobserved (the default)."""

    def span(
        self, name: str, attributes: Mapping[str, Any] | None = None
    ) -> AbstractContextManager[object]:
        return _NO_SPAN


def _ignore_batch(loader: str, size: int) -> None:
    return None


def gateway_error(exc: KomboError, redact: Redact) -> GatewayError:
    """What a Kombo failure looks like to a GraphQL client (CONTRACT.md §1 Errors).

    Every string Kombo supplied (message, title, log link, code) passes through ``redact`` (the
    log lines' redaction, with the process's secrets): an upstream that echoes the request's
    ``Authorization: Bearer <key>`` in its error text must not hand the key to clients.
    """
    if isinstance(exc, KomboAPIError):
        return UpstreamError(
            redact(exc.message),
            code=_redacted(exc.code, redact),
            title=_redacted(exc.title, redact),
            log_url=_redacted(exc.log_url, redact),
            status=exc.status,
        )
    if isinstance(exc, KomboRetriesExhausted):
        return UpstreamGaveUp(exc, redact)
    return UpstreamUnavailable(redact(f"Kombo gave no usable answer: {exc}"))


def _redacted(text: str | None, redact: Redact) -> str | None:
    return None if text is None else redact(text)


@dataclass
class GatewayContext:
    """What resolvers see as ``info.context``."""

    kombo: KomboClient
    cursor_key: bytes
    integration_id: str | None
    request_id: str
    upstream_budget: UpstreamBudget = field(default_factory=UpstreamBudget)
    """Counts this request's real upstream calls (pages, id batches) against
    ``GATEWAY_UPSTREAM_BUDGET``; memoized pages and response-cache hits are not calls (the
    client spends it only when it goes upstream)."""
    deadline: Deadline = field(default_factory=lambda: Deadline.after(DEFAULT_REQUEST_TIMEOUT))
    """Every upstream call of this request (retries, waits and id batches included) ends by it."""
    spans: Spans = field(default_factory=NoSpans, repr=False)
    """Spans around the resolvers' upstream work (the app's are a no-op unless it traces)."""
    observe_batch: ObserveBatch = field(default=_ignore_batch, repr=False)
    """Told of each id batch (the app counts them); ignored by default."""
    redact: Redact = field(default_factory=Redactor, repr=False)
    """Applied to every string from Kombo that reaches the client: the app's is bound to the
    process's secrets; the default still removes bearer tokens and JWTs."""
    admission: AdmissionTicket | None = field(default=None, repr=False)
    """This request's share of the process's memory budget (``GATEWAY_MAX_INFLIGHT_COST``):
    reserved as execution starts, released by the endpoint once the response is sent
    (:meth:`response_sent`). None: not bounded (unit tests)."""
    _pages: dict[tuple[str, InterviewQuery, int, str | None], asyncio.Future[InterviewPage]] = (
        field(default_factory=dict, repr=False)
    )
    _tasks: set[asyncio.Future[Any]] = field(default_factory=set, repr=False)
    """Upstream work this request started in tasks of its own (shared pages, id batches)."""

    def cancel_pending(self) -> None:
        """End whatever upstream work of this request is still running: its answer is sent.

        Shared pages are shielded from any one field's cancellation (another field may need
        them), and DataLoader batches run in tasks of their own; neither would otherwise stop
        when graphql-core abandons the fields waiting for them.
        """
        for task in self._tasks:
            if not task.done():
                task.cancel()
        self._tasks.clear()

    def response_sent(self) -> None:
        """The response has been sent, or will never be (an error, a cancelled request): give
        back this request's memory reservation. Safe to call more than once."""
        if self.admission is not None:
            self.admission.release()

    def integration(self) -> str:
        """The integration this request reads; a clear error when none was given or configured."""
        if self.integration_id is None:
            raise BadUserInput(
                "No integration: send the X-Integration-Id header, or configure "
                "KOMBO_INTEGRATION_ID on the gateway"
            )
        return self.integration_id

    @cached_property
    def interview_loader(self) -> DataLoader[str, Interview | None]:
        """Every id lookup of this request, batched into ``ids=`` calls of at most 250."""
        integration = self.integration()

        async def load(ids: list[str]) -> list[Interview | None]:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            # include_deleted: a known id is found; remoteDeletedAt says it is gone.
            query = InterviewQuery(ids=tuple(ids), include_deleted=True)
            self.observe_batch("interviews", len(ids))
            try:
                with self.spans.span("interviews by id", {"gateway.batch_size": len(ids)}):
                    page = await self.kombo.list_interviews(
                        integration,
                        query,
                        page_size=len(ids),
                        deadline=self.deadline,
                        on_upstream_call=self.upstream_budget.spend,
                    )
            except KomboError as exc:
                raise gateway_error(exc, self.redact) from exc
            by_id = {interview.id: interview for interview in page.results}
            return [by_id.get(i) for i in ids]

        return DataLoader(load, max_batch_size=MAX_PAGE_SIZE)

    async def fetch_page(
        self, query: InterviewQuery, page_size: int, cursor: str | None
    ) -> InterviewPage:
        """One upstream page; the same page asked twice in one request is fetched once."""
        integration = self.integration()
        key = (integration, query, page_size, cursor)
        pending = self._pages.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(integration, query, page_size, cursor))
            self._pages[key] = pending
            self._tasks.add(pending)
        return await asyncio.shield(pending)

    async def _fetch(
        self, integration: str, query: InterviewQuery, page_size: int, cursor: str | None
    ) -> InterviewPage:
        attributes = {"gateway.page_size": page_size, "gateway.after_cursor": cursor is not None}
        try:
            with self.spans.span("interviews page", attributes):
                return await self.kombo.list_interviews(
                    integration,
                    query,
                    page_size=page_size,
                    cursor=cursor,
                    deadline=self.deadline,
                    on_upstream_call=self.upstream_budget.spend,
                )
        except KomboError as exc:
            raise gateway_error(exc, self.redact) from exc
