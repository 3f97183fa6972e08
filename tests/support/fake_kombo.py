"""A fake Kombo client over a list of interviews, and a schema run against it as a client sees
the answer: the fast-path tests' upstream."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from gateway.http import error_body
from gateway.kombo import InterviewPage, InterviewQuery, KomboAPIError, KomboUnavailable
from gateway.kombo import models as m
from gateway.schema import GatewayContext, GatewaySchema
from gateway.upstream import UpstreamAccess

CURSOR_KEY = b"differential-test-cursor-key-32b"
INTEGRATION = "test:differential"


@dataclass(frozen=True)
class Faults:
    """Where the fake upstream fails: any request naming one of these ids, jobs or cursors."""

    ids: frozenset[str] = frozenset()
    jobs: frozenset[str] = frozenset()
    cursors: frozenset[str] = frozenset()
    error: Exception = field(default_factory=lambda: KomboUnavailable("down"))


@dataclass
class FakeKombo:
    """Kombo's ``GET /ats/interviews`` over a list of interviews: filters by ``ids`` and
    ``job_ids``, pages with ``off:N`` cursors, fails as :class:`Faults` say. Deterministic: the
    same request always gets the same answer, after the same number of event-loop turns."""

    interviews: tuple[Any, ...]
    faults: Faults = field(default_factory=Faults)
    calls: list[tuple[InterviewQuery, int, str | None]] = field(default_factory=list)

    async def list_interviews(
        self,
        integration_id: str,
        query: InterviewQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        on_upstream_call: Callable[[], object] | None = None,
        **_options: Any,
    ) -> InterviewPage:
        assert integration_id == INTEGRATION
        if on_upstream_call is not None:  # as the client: the request's budget, spent per call
            on_upstream_call()
        self.calls.append((query, page_size, cursor))
        # A few turns of the loop, differing per request, so that concurrent fields interleave.
        for _ in range(zlib.crc32(repr((query, page_size, cursor)).encode()) % 3):
            await asyncio.sleep(0)
        faults = self.faults
        if (
            (query.ids and faults.ids.intersection(query.ids))
            or (query.job_ids and faults.jobs.intersection(query.job_ids))
            or cursor in faults.cursors
        ):
            raise faults.error
        items = [i for i in self.interviews if _matches(i, query)]
        start = 0
        if cursor is not None:
            if not cursor.startswith("off:") or not cursor[4:].isdigit():
                raise KomboAPIError(
                    status=400,
                    code="PLATFORM.INPUT_INVALID",
                    title="Invalid cursor",
                    message="The cursor is invalid.",
                    log_url=None,
                )
            start = int(cursor[4:])
        end = start + page_size
        return InterviewPage(
            results=tuple(items[start:end]), next=f"off:{end}" if end < len(items) else None
        )


def _matches(interview: Any, query: InterviewQuery) -> bool:
    if query.ids is not None and getattr(interview, "id", None) not in query.ids:
        return False
    if query.job_ids is not None:
        job = getattr(getattr(interview, "application", None), "job", None)
        return getattr(job, "id", None) in query.job_ids
    return True


def execute(
    schema: GatewaySchema, document: str, variables: dict[str, Any], fake: FakeKombo
) -> str:
    """The response as a client would see it (plus the raw error shapes), as JSON text."""

    async def run() -> Any:
        context = GatewayContext(
            upstream=UpstreamAccess(kombo=fake, integration_id=INTEGRATION),  # type: ignore[arg-type]
            cursor_key=CURSOR_KEY,
            request_id="request-1",
        )
        return await schema.execute(document, variable_values=variables, context_value=context)

    result = asyncio.run(run())
    errors = result.errors or []
    return json.dumps(
        {
            "data": result.data,
            "errors": [error_body(e) for e in errors],
            "raw": [e.formatted for e in errors],
        },
        ensure_ascii=False,
    )


def interview(index: int, **changes: Any) -> m.Interview:
    at = datetime(2024, 5, 1, 9, 30, 0, 123000, tzinfo=UTC)
    value = m.Interview(
        id=f"iv-{index}",
        remote_id=f"r-{index}",
        title=f"Interview №{index}",
        starting_at=at,
        ending_at=None,
        location=m.Location("Berlin", "DE", None, None, "Straße 1", None, "10115"),
        video_conferencing_url=None,
        application_id="app-1",
        stage_id=None,
        canceled=False,
        remote_created_at=at,
        remote_updated_at=None,
        remote_data={"/interviews": {"id": index, "tags": ["a", None]}},
        changed_at=at,
        remote_deleted_at=None,
        users=(m.User("u-1", None, "Ada", "Lovelace", "ada@example.com"),),
        application=m.Application(
            id="app-1",
            remote_id=None,
            outcome=m.ApplicationOutcome.HIRED,
            rejection_reason_name=None,
            candidate=m.Candidate("c-1", "rc-1", "Grace", None, (m.EmailAddress("g@x", "WORK"),)),
            job=m.Job("job-1", "rj-1", "Engineer"),
        ),
    )
    return replace(value, **changes)


UPSTREAM = FakeKombo(tuple(interview(i) for i in range(5)))
