"""An upstream whose records change while the tests watch: the live feed's fake Kombo.

:class:`ChangingKombo` answers ``list_records`` as the Kombo client does (parsed records, pages
of ``page_size`` with ``off:N`` cursors), filtering on ``updated_after`` (a record's
``changed_at`` strictly after it) and ``include_deleted``. :meth:`ChangingKombo.change` stamps a
record with a new ``changed_at`` (later than any before), as an edit in the ATS would. Every
call is kept; ``gate`` (when set) holds calls until opened; ``failures`` fail the next calls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.kombo import KomboError, ListQuery, Page
from gateway.kombo.catalog import CATALOG
from gateway.kombo.parsing import parse_record
from gateway.kombo.query import format_updated_after
from tests.support.fake_kombo import raw_interview

INTEGRATION = "test:live"


@dataclass
class Call:
    integration_id: str
    path: str
    updated_after: str | None
    include_deleted: bool
    page_size: int
    cursor: str | None


@dataclass
class ChangingKombo:
    """Interviews whose ``changed_at`` tests move forward."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: list[KomboError] = field(default_factory=list)
    gate: asyncio.Event | None = None
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=1))

    def add_interviews(self, count: int, start: int = 0) -> None:
        """Interviews ``iv-start`` .. unchanged for a day (no live subscriber sees them)."""
        for index in range(start, start + count):
            raw = raw_interview(index)
            raw["changed_at"] = format_updated_after(self.clock)
            self.records[raw["id"]] = raw

    def change(self, record_id: str, *, deleted: bool = False) -> str:
        """Edit one record now: a ``changed_at`` after every earlier one (and after the
        current time); ``deleted`` sets ``remote_deleted_at``. Returns the new ``changed_at``."""
        now = datetime.now(UTC)
        self.clock = max(self.clock + timedelta(milliseconds=1), now)
        stamp = format_updated_after(self.clock)
        record = self.records[record_id]
        record["changed_at"] = stamp
        if deleted:
            record["remote_deleted_at"] = stamp
        return stamp

    def upstream_calls(self, path: str = "/ats/interviews") -> list[Call]:
        return [c for c in self.calls if c.path == path]

    async def list_records(
        self,
        integration_id: str,
        query: ListQuery,
        *,
        page_size: int,
        cursor: str | None = None,
        **_options: Any,
    ) -> Page:
        after = query.get("updated_after")
        include_deleted = query.get("include_deleted") is True
        self.calls.append(
            Call(
                integration_id,
                query.path,
                format_updated_after(after) if isinstance(after, datetime) else None,
                include_deleted,
                page_size,
                cursor,
            )
        )
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        model = CATALOG.by_path(query.path)
        matching = [
            r
            for r in self.records.values()
            if model.name == "Interview"  # the records held are interviews
            and (not isinstance(after, datetime) or datetime.fromisoformat(r["changed_at"]) > after)
            and (include_deleted or r.get("remote_deleted_at") is None)
        ]
        matching.sort(key=lambda r: (r["changed_at"], r["id"]))
        start = int(cursor[4:]) if cursor else 0
        end = start + page_size
        return Page(
            query.path,
            tuple(parse_record(model, r) for r in matching[start:end]),
            f"off:{end}" if end < len(matching) else None,
        )
