"""Hypothesis strategies for :class:`~gateway.kombo.ListQuery` over every model of the catalog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from gateway.kombo import ListQuery
from gateway.kombo.catalog import CATALOG, Model, Param

MODELS = tuple(CATALOG)

# Any non-empty text without a comma (lists travel comma-joined): unicode, '&', '=', '%', '/'.
text_values = st.text(min_size=1, max_size=12).filter(lambda v: "," not in v)

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(UTC) | fixed_offsets,
)


def param_values(param: Param) -> st.SearchStrategy[Any]:
    """Values of one parameter as :meth:`ListQuery.of` takes them."""
    if param.kind == "boolean":
        return st.booleans()
    if param.kind == "datetime":
        return aware_datetimes
    if param.kind == "string":
        return text_values
    if param.kind == "enums":
        assert param.enum is not None
        items: st.SearchStrategy[str] = st.sampled_from(param.enum.values)
    else:
        items = text_values
    return st.lists(items, min_size=1, max_size=3).map(tuple)


def filters_of(model: Model) -> st.SearchStrategy[dict[str, Any]]:
    """Some of ``model``'s parameters, each with a value (or ``None``: not filtered on)."""
    return st.fixed_dictionaries(
        {}, optional={p.name: st.none() | param_values(p) for p in model.params}
    )


def queries_of(model: Model) -> st.SearchStrategy[ListQuery]:
    return filters_of(model).map(lambda filters: ListQuery.of(model, filters))


list_queries: st.SearchStrategy[ListQuery] = st.sampled_from(MODELS).flatmap(queries_of)
"""A query of any of the ten endpoints, with any of its parameters set."""
