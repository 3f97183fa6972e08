"""The query parameters of one list endpoint as one immutable value.

:class:`ListQuery` holds an endpoint's filters; :meth:`ListQuery.to_params` renders them exactly
as the spec wants them on the wire (lists comma-joined, date-times ``YYYY-MM-DDTHH:mm:ss.sssZ``,
booleans ``true``/``false``). Page size and cursor travel beside it, because an upstream cursor is
only valid with the exact filters *and* page size that produced it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.kombo.catalog import CATALOG, Model

MAX_PAGE_SIZE = 250
"""The spec's bound on ``page_size``."""

FilterValue = tuple[str, ...] | datetime | bool | str


def format_updated_after(value: datetime) -> str:
    """``YYYY-MM-DDTHH:mm:ss.sssZ`` in UTC, as the spec asks (sub-millisecond digits truncated).

    Not ``strftime("%Y")``: it does not pad years before 1000 to four digits on every platform.
    """
    if value.tzinfo is None:
        raise ValueError("updated_after needs a timezone")
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def _render(value: FilterValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_updated_after(value)
    if isinstance(value, tuple):
        return ",".join(value)
    return value


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Filters of one list endpoint: AND across parameters, OR within one list (as upstream).

    ``filters`` holds (parameter, value) pairs in the catalog's parameter order; a parameter not
    there is not filtered on. An empty tuple means "match nothing". Boolean parameters with a
    default (``include_deleted``, ``ignore_unsupported_filters``) are always sent.
    """

    path: str
    filters: tuple[tuple[str, FilterValue], ...] = ()

    @classmethod
    def of(cls, model: Model, filters: Mapping[str, FilterValue | None]) -> ListQuery:
        """The query of ``model``'s endpoint with these filters (``None`` values left out)."""
        known = {p.name: p for p in model.params}
        unknown = set(filters) - set(known)
        if unknown:
            raise ValueError(f"{model.path} has no parameter {sorted(unknown)[0]!r}")
        pairs = []
        for param in model.params:
            value = filters.get(param.name)
            if value is None and param.kind == "boolean":
                value = bool(param.default)
            if value is not None:
                pairs.append((param.name, value))
        return cls(model.path, tuple(pairs))

    @classmethod
    def by_ids(cls, model: Model, ids: tuple[str, ...]) -> ListQuery:
        """An id lookup: these ids, deleted records included (a known id is found;
        ``remote_deleted_at`` says it is gone)."""
        return cls.of(model, {"ids": ids, "include_deleted": True})

    @property
    def model(self) -> Model:
        return CATALOG.by_path(self.path)

    def get(self, name: str) -> FilterValue | None:
        for key, value in self.filters:
            if key == name:
                return value
        return None

    def replace(self, name: str, value: FilterValue | None) -> ListQuery:
        """The same query with one parameter set (or, with ``None``, removed)."""
        current = dict(self.filters)
        current[name] = value  # type: ignore[assignment]
        return ListQuery.of(self.model, current)

    @property
    def matches_nothing(self) -> bool:
        """True when a list filter is empty: no record can match, so no request is needed."""
        return any(isinstance(v, tuple) and len(v) == 0 for _, v in self.filters)

    def to_params(self) -> dict[str, str]:
        """The filters as query parameters, in a stable order."""
        return {name: _render(value) for name, value in self.filters}

    def digest(self) -> str:
        """A short fingerprint of the endpoint and rendered filters: equal exactly when both are.

        JSON, not ``k=v&…``: values may contain ``&`` and ``=``, which made distinct params collide.
        """
        rendered = json.dumps([self.path, sorted(self.to_params().items())], separators=(",", ":"))
        return hashlib.sha256(rendered.encode()).hexdigest()[:16]


def page_params(query: ListQuery, page_size: int, cursor: str | None) -> dict[str, str]:
    """Everything one upstream page request sends: filters, ``page_size`` and maybe ``cursor``."""
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}, got {page_size}")
    params = query.to_params()
    params["page_size"] = str(page_size)
    if cursor is not None:
        params["cursor"] = cursor
    return params
