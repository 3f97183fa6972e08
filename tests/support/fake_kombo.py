"""A fake Kombo client over records of any model, and a schema run against it as a client sees
the answer: the fast-path tests' upstream."""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway.http import error_body
from gateway.kombo import KomboAPIError, KomboUnavailable, ListQuery, Page, Record
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_page, parse_record
from gateway.schema import GatewayContext, GatewaySchema
from gateway.upstream import UpstreamAccess

CURSOR_KEY = b"differential-test-cursor-key-32b"
INTEGRATION = "test:differential"
INTERVIEWS = CATALOG["Interview"]


@dataclass(frozen=True)
class Faults:
    """Where the fake upstream fails: any request naming one of these ids, jobs or cursors."""

    ids: frozenset[str] = frozenset()
    jobs: frozenset[str] = frozenset()
    cursors: frozenset[str] = frozenset()
    error: Exception = field(default_factory=lambda: KomboUnavailable("down"))


class KomboJson(dict[str, Any]):
    """Kombo's JSON of one whole record of ``model``, served as the real client serves it: the
    decoded object itself when reading it changes nothing structural, else its record
    (:func:`gateway.kombo.parsing.parse_page`)."""

    def __init__(self, model: str, raw: dict[str, Any]) -> None:
        super().__init__(raw)
        self.model = model


def path_of(record: Any) -> str:
    """The endpoint answering ``record``: its model's; anything that is no model's whole record
    (the tests' deliberately wrong values) is an interview."""
    model = getattr(record, "model", None)
    if isinstance(record, KomboJson):
        return CATALOG[record.model].path
    if isinstance(record, Record) and model is not None and not record.partial:
        return CATALOG[model].path
    return INTERVIEWS.path


def _served(record: Any) -> Any:
    if not isinstance(record, KomboJson):
        return record
    body = {"status": "success", "data": {"results": [dict(record)], "next": None}}
    return parse_page(CATALOG[record.model], body).items[0]


def _job_ids(value: Any) -> set[Any]:
    """Every job id a record names: ``job_id`` keys and the ids of nested ``job`` objects."""
    found: set[Any] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "job_id":
                found.add(inner)
            elif key == "job" and isinstance(inner, dict):
                found.add(inner.get("id"))
            if isinstance(inner, dict | list | tuple):
                found |= _job_ids(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            found |= _job_ids(inner)
    return found


@dataclass
class FakeKombo:
    """Kombo's list endpoints over a list of records of any model (each served at its model's
    endpoint): filters by ``ids`` and ``job_ids``, pages with ``off:N`` cursors, fails as
    :class:`Faults` say. Deterministic: the same request always gets the same answer, after the
    same number of event-loop turns."""

    records: tuple[Any, ...]
    faults: Faults = field(default_factory=Faults)
    calls: list[tuple[ListQuery, int, str | None]] = field(default_factory=list)

    async def list_records(
        self,
        integration_id: str,
        query: ListQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        on_upstream_call: Callable[[], object] | None = None,
        **_options: Any,
    ) -> Page:
        assert integration_id == INTEGRATION
        if on_upstream_call is not None:  # as the client: the request's budget, spent per call
            on_upstream_call()
        self.calls.append((query, page_size, cursor))
        # A few turns of the loop, differing per request, so that concurrent fields interleave.
        for _ in range(zlib.crc32(repr((query, page_size, cursor)).encode()) % 3):
            await asyncio.sleep(0)
        faults = self.faults
        ids = query.get("ids")
        job_ids = query.get("job_ids")
        if (
            (isinstance(ids, tuple) and faults.ids.intersection(ids))
            or (isinstance(job_ids, tuple) and faults.jobs.intersection(job_ids))
            or cursor in faults.cursors
        ):
            raise faults.error
        items = [r for r in self.records if path_of(r) == query.path and _matches(r, query)]
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
        model = CATALOG.by_path(query.path)
        return Page(
            query.path,
            next=f"off:{end}" if end < len(items) else None,
            items=tuple(_served(r) for r in items[start:end]),
            parse=lambda raw: parse_record(model, raw),
        )


def _matches(record: Any, query: ListQuery) -> bool:
    ids = query.get("ids")
    if isinstance(ids, tuple) and record.get("id") not in ids:
        return False
    job_ids = query.get("job_ids")
    if isinstance(job_ids, tuple):
        return bool(_job_ids(record).intersection(job_ids))
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


def raw_interview(index: int) -> dict[str, Any]:
    """Kombo's JSON of one interview (the spec example's shape)."""
    at = "2024-05-01T09:30:00.123Z"
    return {
        "id": f"iv-{index}",
        "remote_id": f"r-{index}",
        "title": f"Interview №{index}",
        "starting_at": at,
        "ending_at": None,
        "location": {
            "city": "Berlin",
            "country": "DE",
            "raw": None,
            "state": None,
            "street_1": "Straße 1",
            "street_2": None,
            "zip_code": "10115",
        },
        "video_conferencing_url": None,
        "application_id": "app-1",
        "stage_id": None,
        "canceled": False,
        "remote_created_at": at,
        "remote_updated_at": None,
        "remote_data": {"/interviews": {"id": index, "tags": ["a", None]}},
        "changed_at": at,
        "remote_deleted_at": None,
        "users": [
            {
                "id": "u-1",
                "remote_id": None,
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.com",
            }
        ],
        "application": {
            "id": "app-1",
            "remote_id": None,
            "outcome": "HIRED",
            "rejection_reason_name": None,
            "candidate": {
                "id": "c-1",
                "remote_id": "rc-1",
                "first_name": "Grace",
                "last_name": None,
                "email_addresses": [{"email_address": "g@x", "type": "WORK"}],
            },
            "job": {"id": "job-1", "remote_id": "rj-1", "name": "Engineer"},
        },
    }


def interview(index: int, **changes: Any) -> Record:
    """One parsed interview; ``changes`` are set on the parsed record as given (wrong values
    included: what the schema does with them is the test)."""
    value = parse_record(INTERVIEWS, raw_interview(index))
    value.update(changes)
    return value


UPSTREAM = FakeKombo(tuple(interview(i) for i in range(5)))
