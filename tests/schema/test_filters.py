"""GraphQL filter arguments → upstream query parameters, for every model's ``<Type>Filter``
(``filter_to_query``, ``restrict``), and properties of the query they make."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.kombo import ListQuery
from gateway.kombo.catalog import CATALOG, Model, Param
from gateway.schema import graph
from gateway.schema.filters import (
    MAX_FILTER_VALUES,
    InvalidFilter,
    filter_to_query,
    graphql_name,
    restrict,
)
from gateway.schema.ids import global_id
from tests.support.list_queries import aware_datetimes, list_queries

MODELS = list(CATALOG)
BOOLEAN_PARAMS = {"include_deleted", "ignore_unsupported_filters"}
PARAMS = [(m, p) for m in MODELS for p in m.params]
LIST_PARAMS = [(m, p) for m, p in PARAMS if p.kind in ("ids", "strings", "enums")]
ID_PARAMS = [(m, p) for m, p in PARAMS if p.kind == "ids"]


def label(value: Any) -> str:
    return value.name if isinstance(value, Model | Param) else str(value)


def filter_of(model: Model, **fields: Any) -> Any:
    """The ``<Type>Filter`` input of ``model`` with these fields (Python names)."""
    filter_type = graph.CONNECTIONS[model.name][2]
    assert filter_type.__name__ == f"{model.name}Filter"
    return filter_type(**fields)


def enum_member(param: Param, value: str) -> Any:
    assert param.enum is not None
    return getattr(graph, param.enum.name)(value)


def values_for(param: Param, raw: list[str]) -> list[Any]:
    """``raw`` as the filter field takes them (enum members for enum lists)."""
    if param.kind == "enums":
        assert param.enum is not None
        return [
            enum_member(param, param.enum.values[hash(v) % len(param.enum.values)]) for v in raw
        ]
    return raw


def params_of(model: Model, **fields: Any) -> dict[str, str]:
    return filter_to_query(model, filter_of(model, **fields)).to_params()


valid_values = st.text(min_size=1, max_size=12).filter(
    lambda v: "," not in v and v.strip() and v.isprintable()
)
value_lists = st.lists(valid_values | st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8)


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_no_filter_and_an_empty_filter_send_only_the_default_booleans(model: Model) -> None:
    defaults = {"include_deleted": "false", "ignore_unsupported_filters": "false"}
    assert filter_to_query(model, None).to_params() == defaults
    assert params_of(model) == defaults
    assert filter_to_query(model, None).path == model.path


@pytest.mark.parametrize(("model", "param"), PARAMS, ids=label)
def test_every_param_is_a_field_of_its_filter(model: Model, param: Param) -> None:
    filter_type = graph.CONNECTIONS[model.name][2]
    definition = filter_type.__strawberry_definition__
    names = {f.python_name: f.graphql_name or graphql_name(param) for f in definition.fields}
    assert param.name in names


@settings(max_examples=150)
@given(data=st.data(), values=value_lists)
@example(data=None, values=["b", "a", "b", "c", "a"])
def test_a_list_is_comma_joined_in_order_without_duplicates(
    data: st.DataObject | None, values: list[str]
) -> None:
    model, param = data.draw(st.sampled_from(LIST_PARAMS)) if data is not None else LIST_PARAMS[0]
    given_values = values_for(param, values)
    params = params_of(model, **{param.name: given_values})
    rendered = [getattr(v, "value", v) for v in given_values]
    deduplicated = list(dict.fromkeys(rendered))
    assert params[param.name] == ",".join(deduplicated)
    assert params[param.name].split(",") == deduplicated
    assert set(params) == {param.name} | BOOLEAN_PARAMS


@pytest.mark.parametrize(("model", "param"), ID_PARAMS, ids=label)
def test_ids_accept_global_ids_of_the_params_model(model: Model, param: Param) -> None:
    assert param.model is not None
    given_ids = [global_id(param.model, "a/1"), "bare", global_id(param.model, "bare")]
    assert params_of(model, **{param.name: given_ids})[param.name] == "a/1,bare"


@pytest.mark.parametrize(("model", "param"), ID_PARAMS, ids=label)
def test_ids_refuse_global_ids_of_other_types_naming_the_argument(
    model: Model, param: Param
) -> None:
    other = "Tag" if param.model != "Tag" else "Role"
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name(param)}: .*not of a"):
        filter_to_query(model, filter_of(model, **{param.name: [global_id(other, "x")]}))
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name(param)}"):
        filter_to_query(model, filter_of(model, **{param.name: ["gid://kombo/Nothing/1"]}))


@pytest.mark.parametrize(
    ("model", "param"), [(m, p) for m, p in PARAMS if p.kind == "enums"], ids=label
)
def test_enum_lists_send_kombos_values(model: Model, param: Param) -> None:
    assert param.enum is not None
    members = [enum_member(param, v) for v in param.enum.values]
    assert params_of(model, **{param.name: members})[param.name] == ",".join(param.enum.values)


@pytest.mark.parametrize(
    ("model", "param"), [(m, p) for m, p in PARAMS if p.kind == "string"], ids=label
)
def test_a_string_param_is_sent_as_it_is_and_blank_is_refused(model: Model, param: Param) -> None:
    assert params_of(model, **{param.name: "a&b=c ü"})[param.name] == "a&b=c ü"
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name(param)}"):
        params_of(model, **{param.name: "  "})


DATETIME_PARAMS = [(m, p) for m, p in PARAMS if p.kind == "datetime"]


@settings(max_examples=200)
@given(data=st.data(), value=aware_datetimes)
@example(
    data=None, value=datetime(2023, 6, 26, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
)
@example(data=None, value=datetime(999, 1, 1, tzinfo=UTC))
def test_datetimes_are_rendered_in_utc_with_milliseconds(
    data: st.DataObject | None, value: datetime
) -> None:
    model, param = (
        data.draw(st.sampled_from(DATETIME_PARAMS)) if data is not None else DATETIME_PARAMS[0]
    )
    rendered = params_of(model, **{param.name: value})[param.name]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", rendered), rendered
    utc = value.astimezone(UTC)
    assert rendered == (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def test_a_datetime_example_with_an_offset() -> None:
    value = datetime(2023, 6, 26, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    for model, param in DATETIME_PARAMS:
        assert params_of(model, **{param.name: value})[param.name] == "2023-06-26T14:30:00.123Z"


@pytest.mark.parametrize(("model", "param"), DATETIME_PARAMS, ids=label)
def test_a_naive_or_unrepresentable_datetime_is_invalid(model: Model, param: Param) -> None:
    with pytest.raises(InvalidFilter, match=graphql_name(param)):
        params_of(model, **{param.name: datetime(2023, 6, 26, 14, 30)})
    late = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2)))
    with pytest.raises(InvalidFilter, match=graphql_name(param)):
        params_of(model, **{param.name: late})


@given(
    model=st.sampled_from(MODELS),
    include_deleted=st.none() | st.booleans(),
    ignore=st.none() | st.booleans(),
)
def test_booleans_render_as_true_or_false(
    model: Model, include_deleted: bool | None, ignore: bool | None
) -> None:
    params = params_of(model, include_deleted=include_deleted, ignore_unsupported_filters=ignore)
    assert params["include_deleted"] == ("true" if include_deleted else "false")
    assert params["ignore_unsupported_filters"] == ("true" if ignore else "false")


@pytest.mark.parametrize(
    ("model", "param"), [(m, p) for m, p in LIST_PARAMS if p.kind != "enums"], ids=label
)
@pytest.mark.parametrize("bad", ["", "  ", "a,b", "x" * 201])
def test_a_comma_blank_or_long_value_is_invalid_and_names_the_field(
    model: Model, param: Param, bad: str
) -> None:
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name(param)}"):
        params_of(model, **{param.name: ["ok", bad]})


@pytest.mark.parametrize(("model", "param"), LIST_PARAMS, ids=label)
def test_too_many_values_are_invalid_and_an_empty_list_matches_nothing(
    model: Model, param: Param
) -> None:
    at_limit = values_for(param, [f"v{i}" for i in range(MAX_FILTER_VALUES)])
    if param.kind != "enums":
        assert params_of(model, **{param.name: at_limit})[param.name].count(",") == (
            MAX_FILTER_VALUES - 1
        )
    with pytest.raises(InvalidFilter, match=rf"at most {MAX_FILTER_VALUES}"):
        params_of(model, **{param.name: [*at_limit, at_limit[0]]})
    assert filter_to_query(model, filter_of(model, **{param.name: []})).matches_nothing
    assert not filter_to_query(model, filter_of(model, **{param.name: None})).matches_nothing


# --- restrict: a nested connection narrowed to its parent ----------------------------------------

NESTED = [(m, p) for m, p in PARAMS if p.name in graph.NESTED_CONNECTION_PARAMS]
tricky = st.none() | st.lists(st.sampled_from(["j1", "j2", "j3"]), max_size=3).map(tuple)


@settings(max_examples=150)
@given(data=st.data(), parent=st.sampled_from(["j1", "j2", "j3"]), current=tricky)
def test_restrict_narrows_to_the_parent(data: st.DataObject, parent: str, current: Any) -> None:
    model, param = data.draw(st.sampled_from(NESTED))
    query = ListQuery.of(model, {param.name: current, "include_deleted": data.draw(st.booleans())})
    restricted = restrict(query, param.name, parent)
    if current is None or parent in current:
        assert restricted.get(param.name) == (parent,)
        assert not restricted.matches_nothing
    else:
        assert restricted.get(param.name) == ()
        assert restricted.matches_nothing
    # Nothing else changes.
    assert restricted.path == query.path
    assert restricted.replace(param.name, current) == query


def test_restrict_examples() -> None:
    interviews = CATALOG["Interview"]
    assert restrict(ListQuery.of(interviews, {}), "job_ids", "J").to_params()["job_ids"] == "J"
    both = ListQuery.of(interviews, {"job_ids": ("A", "J")})
    assert restrict(both, "job_ids", "J").get("job_ids") == ("J",)
    assert restrict(
        ListQuery.of(interviews, {"job_ids": ("A", "B")}), "job_ids", "J"
    ).matches_nothing


# --- the queries filters make: params and digests ------------------------------------------------


@settings(max_examples=200)
@given(a=list_queries, b=list_queries)
def test_distinct_params_or_endpoints_give_distinct_digests(a: ListQuery, b: ListQuery) -> None:
    same = a.path == b.path and a.to_params() == b.to_params()
    assert (a.digest() == b.digest()) == same


@given(query=list_queries)
def test_params_are_the_filters_rendered_in_catalog_order(query: ListQuery) -> None:
    params = query.to_params()
    order = [p.name for p in query.model.params]
    assert list(params) == sorted(params, key=order.index)
    assert set(params) >= BOOLEAN_PARAMS
    assert all(isinstance(v, str) for v in params.values())


@pytest.mark.parametrize("model", MODELS, ids=label)
def test_the_digest_includes_the_endpoint(model: Model) -> None:
    others = [m for m in MODELS if m is not model]
    digest = filter_to_query(model, None).digest()
    assert all(filter_to_query(m, None).digest() != digest for m in others)
