"""One GraphQL request's access to Kombo: the caller's integration, the loaders, a page memo.

One :class:`UpstreamAccess` per GraphQL request, created inside the running event loop (the
DataLoader binds the loop it is created in). The resolvers reach Kombo only through it: id
lookups batched by the loader, pages fetched once per request, every call within the request's
deadline and upstream-call budget, and whatever is still running cancelled once the answer is
sent (README "Layout").
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiodataloader import DataLoader, Loader, dispatch_queue

from gateway.errors import BadUserInput
from gateway.kombo import (
    MAX_PAGE_SIZE,
    Deadline,
    KomboClient,
    KomboError,
    ListQuery,
    Page,
    Record,
)
from gateway.kombo.catalog import CATALOG
from gateway.redaction import Redactor
from gateway.upstream.budget import UpstreamBudget
from gateway.upstream.errors import Redact, gateway_error

_SETTLE_TURNS = 64
"""At most this many event-loop turns between a loader's first key and its dispatch."""


class _SettlingLoader(DataLoader[str, "Record | None"]):
    """A DataLoader that dispatches once no key has come for two event-loop turns, rather than
    two turns after the first key as aiodataloader does.

    graphql-core reaches the records of nested lists over several turns (a list of one item is
    awaited directly, a longer one gathered), so the fixed two turns split one request's
    completions of a model into several calls: 107 applications inlined under 83 candidates went
    upstream as 75 + 32 ids (CONTRACT 1.4: one call per model per 250). Waiting costs a few
    microseconds per turn; :data:`_SETTLE_TURNS` bounds it.
    """

    _settling: asyncio.Future[None] | None = None
    """The pending dispatch (a reference, so that the task is not collected while it waits)."""

    def do_resolve_reject(self, key: str, future: asyncio.Future[Any]) -> None:
        self._queue.append(Loader(key=key, future=future))
        if len(self._queue) == 1:
            self._settling = asyncio.ensure_future(self._dispatch_when_settled())

    async def _dispatch_when_settled(self) -> None:
        seen, quiet = len(self._queue), 0
        for _ in range(_SETTLE_TURNS):
            await asyncio.sleep(0)
            quiet = quiet + 1 if len(self._queue) == seen else 0
            seen = len(self._queue)
            if quiet == 2:
                break
        dispatch_queue(self)


DEFAULT_REQUEST_TIMEOUT = 10.0  # seconds; the app passes GATEWAY_REQUEST_TIMEOUT's deadline
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


@dataclass
class UpstreamAccess:
    """What the resolvers of one GraphQL request may ask of Kombo."""

    kombo: KomboClient
    integration_id: str | None
    budget: UpstreamBudget = field(default_factory=UpstreamBudget)
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
    _pages: dict[tuple[str, ListQuery, int, str | None], asyncio.Future[Page]] = field(
        default_factory=dict, repr=False
    )
    _loaders: dict[str, _SettlingLoader] = field(default_factory=dict, repr=False)
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
        for loader in self._loaders.values():  # batches not dispatched yet: never sent
            if loader._settling is not None and not loader._settling.done():
                loader._settling.cancel()

    def integration(self) -> str:
        """The integration this request reads; a clear error when none was given or configured."""
        if self.integration_id is None:
            raise BadUserInput(
                "No integration: send the X-Integration-Id header, or configure "
                "KOMBO_INTEGRATION_ID on the gateway"
            )
        return self.integration_id

    def loader(self, model: str) -> DataLoader[str, Record | None]:
        """Every id lookup of ``model`` in this request (lookups, references, completions of
        inline records), batched into ``ids=`` calls of at most 250."""
        loader = self._loaders.get(model)
        if loader is None:
            loader = self._loaders[model] = self._new_loader(model)
        return loader

    def _new_loader(self, model_name: str) -> _SettlingLoader:
        integration = self.integration()
        model = CATALOG[model_name]
        # What the batches need, taken now: the loader is kept in self._loaders, so a closure
        # over self would be a reference cycle holding the request's records until the cyclic
        # collector ran (gateway/heap.py).
        kombo, deadline, budget, spans = self.kombo, self.deadline, self.budget, self.spans
        observe_batch, redact, tasks = self.observe_batch, self.redact, self._tasks

        async def load(ids: list[str]) -> list[Record | None]:
            task = asyncio.current_task()
            if task is not None:
                tasks.add(task)
            query = ListQuery.by_ids(model, tuple(ids))
            observe_batch(model.plural, len(ids))
            try:
                with spans.span(f"{model.plural} by id", {"gateway.batch_size": len(ids)}):
                    page = await kombo.list_records(
                        integration,
                        query,
                        page_size=len(ids),
                        deadline=deadline,
                        on_upstream_call=budget.spend,
                    )
            except KomboError as exc:
                raise gateway_error(exc, redact) from exc
            by_id = {record["id"]: record for record in page.results}
            return [by_id.get(i) for i in ids]

        return _SettlingLoader(load, max_batch_size=MAX_PAGE_SIZE)

    async def fetch_page(self, query: ListQuery, page_size: int, cursor: str | None) -> Page:
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
        self, integration: str, query: ListQuery, page_size: int, cursor: str | None
    ) -> Page:
        attributes = {"gateway.page_size": page_size, "gateway.after_cursor": cursor is not None}
        try:
            with self.spans.span(f"{query.model.plural} page", attributes):
                return await self.kombo.list_records(
                    integration,
                    query,
                    page_size=page_size,
                    cursor=cursor,
                    deadline=self.deadline,
                    on_upstream_call=self.budget.spend,
                )
        except KomboError as exc:
            raise gateway_error(exc, self.redact) from exc
