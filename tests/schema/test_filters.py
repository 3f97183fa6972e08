"""GraphQL filter arguments → upstream query parameters (`filter_to_query`, `restrict_to_job`)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.kombo.query import InterviewQuery
from gateway.schema.filters import (
    MAX_FILTER_VALUES,
    InterviewFilter,
    InvalidFilter,
    filter_to_query,
    restrict_to_job,
)

LIST_FIELDS = [("ids", "ids", "ids"), ("remote_ids", "remoteIds", "remote_ids")]
LIST_FIELDS.append(("job_ids", "jobIds", "job_ids"))
"""(InterviewFilter field, GraphQL name, upstream parameter)."""

BOOLEAN_PARAMS = {"include_deleted", "ignore_unsupported_filters"}

# Valid values: non-blank, no comma. A small pool makes duplicates frequent.
valid_values = st.text(min_size=1, max_size=12).filter(lambda v: "," not in v and v.strip())
value_lists = st.lists(valid_values | st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8)

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ),
)
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.just(UTC) | fixed_offsets | st.timezones(),
)


def params_of(**fields: object) -> dict[str, str]:
    return filter_to_query(InterviewFilter(**fields)).to_params()


def test_no_filter_and_an_empty_filter_send_only_the_default_booleans() -> None:
    defaults = {"include_deleted": "false", "ignore_unsupported_filters": "false"}
    assert filter_to_query(None).to_params() == defaults
    assert params_of() == defaults
    assert params_of(
        ids=None, remote_ids=None, job_ids=None, updated_after=None, include_deleted=None
    ) == {**defaults}


@settings(max_examples=150)
@given(values=value_lists, field=st.sampled_from(LIST_FIELDS))
@example(values=["b", "a", "b", "c", "a"], field=LIST_FIELDS[0])
def test_list_is_comma_joined_in_order_without_duplicates(
    values: list[str], field: tuple[str, str, str]
) -> None:
    name, _, param = field
    params = params_of(**{name: values})
    deduplicated = list(dict.fromkeys(values))
    assert params[param] == ",".join(deduplicated)
    assert params[param].split(",") == deduplicated
    assert set(params) == {param} | BOOLEAN_PARAMS


@given(ids=value_lists, remote_ids=value_lists, job_ids=value_lists)
def test_all_list_fields_together(
    ids: list[str], remote_ids: list[str], job_ids: list[str]
) -> None:
    params = params_of(ids=ids, remote_ids=remote_ids, job_ids=job_ids)
    assert params["ids"] == ",".join(dict.fromkeys(ids))
    assert params["remote_ids"] == ",".join(dict.fromkeys(remote_ids))
    assert params["job_ids"] == ",".join(dict.fromkeys(job_ids))


@settings(max_examples=200)
@given(value=aware_datetimes)
@example(value=datetime(2023, 6, 26, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2))))
@example(value=datetime(999, 1, 1, tzinfo=UTC))
def test_updated_after_is_rendered_in_utc_with_milliseconds(value: datetime) -> None:
    rendered = params_of(updated_after=value)["updated_after"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z", rendered), rendered
    utc = value.astimezone(UTC)
    assert rendered == (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


def test_updated_after_example_with_offset() -> None:
    value = datetime(2023, 6, 26, 16, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert params_of(updated_after=value)["updated_after"] == "2023-06-26T14:30:00.123Z"


def test_naive_updated_after_is_invalid() -> None:
    with pytest.raises(InvalidFilter, match="updatedAfter"):
        filter_to_query(InterviewFilter(updated_after=datetime(2023, 6, 26, 14, 30)))


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, 2, tzinfo=timezone(timedelta(hours=5))),
        datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_updated_after_outside_the_representable_utc_range_is_invalid(value: datetime) -> None:
    with pytest.raises(InvalidFilter, match="updatedAfter"):
        filter_to_query(InterviewFilter(updated_after=value)).to_params()


@given(include_deleted=st.none() | st.booleans(), ignore=st.none() | st.booleans())
def test_booleans_render_as_true_or_false(
    include_deleted: bool | None, ignore: bool | None
) -> None:
    params = params_of(include_deleted=include_deleted, ignore_unsupported_filters=ignore)
    assert params["include_deleted"] == ("true" if include_deleted else "false")
    assert params["ignore_unsupported_filters"] == ("true" if ignore else "false")


@given(
    values=value_lists,
    bad=st.text(alphabet=" \t\n", max_size=3) | valid_values.map(lambda v: v + ",x"),
    data=st.data(),
    field=st.sampled_from(LIST_FIELDS),
)
@example(values=["a"], bad="", data=None, field=LIST_FIELDS[1])
@example(values=["a"], bad=",", data=None, field=LIST_FIELDS[2])
def test_comma_or_blank_value_is_invalid_and_names_the_field(
    values: list[str], bad: str, data: st.DataObject | None, field: tuple[str, str, str]
) -> None:
    name, graphql_name, _ = field
    at = 0 if data is None else data.draw(st.integers(0, len(values)), label="at")
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name}\b"):
        filter_to_query(InterviewFilter(**{name: [*values[:at], bad, *values[at:]]}))


@pytest.mark.parametrize("field", LIST_FIELDS)
def test_too_many_values_are_invalid(field: tuple[str, str, str]) -> None:
    name, graphql_name, param = field
    at_limit = [f"v{i}" for i in range(MAX_FILTER_VALUES)]
    assert params_of(**{name: at_limit})[param].count(",") == MAX_FILTER_VALUES - 1
    with pytest.raises(InvalidFilter, match=rf"filter\.{graphql_name} takes at most 250"):
        filter_to_query(InterviewFilter(**{name: [*at_limit, "one-more"]}))


def test_limit_is_the_upstream_page_bound() -> None:
    assert MAX_FILTER_VALUES == 250


@pytest.mark.parametrize("field", LIST_FIELDS)
def test_an_empty_list_matches_nothing(field: tuple[str, str, str]) -> None:
    name, _, _ = field
    assert filter_to_query(InterviewFilter(**{name: []})).matches_nothing
    assert not filter_to_query(InterviewFilter(**{name: ["x"]})).matches_nothing
    assert not filter_to_query(InterviewFilter(**{name: None})).matches_nothing
    assert not filter_to_query(InterviewFilter()).matches_nothing


queries = st.builds(
    InterviewQuery,
    ids=st.none() | st.lists(valid_values, max_size=3).map(tuple),
    remote_ids=st.none() | st.lists(valid_values, max_size=3).map(tuple),
    job_ids=st.none() | st.lists(st.sampled_from(["j1", "j2", "j3"]), max_size=3).map(tuple),
    updated_after=st.none() | aware_datetimes,
    include_deleted=st.booleans(),
    ignore_unsupported_filters=st.booleans(),
)


@settings(max_examples=150)
@given(query=queries, job_id=st.sampled_from(["j1", "j2", "j3"]))
def test_restrict_to_job(query: InterviewQuery, job_id: str) -> None:
    restricted = restrict_to_job(query, job_id)
    if query.job_ids is None or job_id in query.job_ids:
        assert restricted.job_ids == (job_id,)
        assert restricted.matches_nothing == query.matches_nothing
    else:
        # A job's interviews are never another job's: the filter excludes them all.
        assert restricted.job_ids == ()
        assert restricted.matches_nothing
    # Nothing else changes.
    assert replace(restricted, job_ids=query.job_ids) == query


def test_restrict_to_job_examples() -> None:
    assert restrict_to_job(InterviewQuery(), "J").to_params()["job_ids"] == "J"
    assert restrict_to_job(InterviewQuery(job_ids=("A", "J")), "J").job_ids == ("J",)
    assert restrict_to_job(InterviewQuery(job_ids=("A", "B")), "J").matches_nothing


@settings(max_examples=150)
@given(a=value_lists, b=value_lists)
def test_digest_equal_iff_params_equal_for_filters(a: list[str], b: list[str]) -> None:
    qa = filter_to_query(InterviewFilter(remote_ids=a))
    qb = filter_to_query(InterviewFilter(remote_ids=b))
    assert (qa.digest() == qb.digest()) == (qa.to_params() == qb.to_params())
    # Duplicates do not change the params, hence not the digest either.
    assert filter_to_query(InterviewFilter(remote_ids=a + a)).digest() == qa.digest()


def test_same_instant_in_another_offset_has_the_same_digest() -> None:
    utc = datetime(2023, 6, 26, 14, 30, tzinfo=UTC)
    berlin = datetime(2023, 6, 26, 16, 30, tzinfo=timezone(timedelta(hours=2)))
    a = filter_to_query(InterviewFilter(updated_after=utc))
    b = filter_to_query(InterviewFilter(updated_after=berlin))
    c = filter_to_query(InterviewFilter(updated_after=utc + timedelta(milliseconds=1)))
    assert a.digest() == b.digest()
    assert a.digest() != c.digest()
