"""ListQuery: upstream query parameters of every endpoint, their fingerprint, and one page's
parameters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gateway.kombo.catalog import CATALOG, Model
from gateway.kombo.query import MAX_PAGE_SIZE, ListQuery, format_updated_after, page_params
from tests.support.list_queries import list_queries

MODELS = list(CATALOG)
INTERVIEWS = CATALOG["Interview"]


def interviews(**filters: Any) -> ListQuery:
    return ListQuery.of(INTERVIEWS, filters)


SPEC_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59, seconds=-59),
        max_value=timedelta(hours=23, minutes=59, seconds=59),
    ),
)
zones = st.just(UTC) | fixed_offsets | st.timezones()
# Local times whose UTC instant is still a representable datetime.
aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=zones
)


def expected_rendering(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


@settings(max_examples=200)
@given(value=aware_datetimes)
@example(value=datetime(5, 3, 4, 5, 6, 7, 890123, tzinfo=UTC))
@example(value=datetime(999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-2))))
def test_updated_after_renders_as_spec_format_in_utc(value: datetime) -> None:
    rendered = format_updated_after(value)
    assert SPEC_FORMAT.match(rendered), rendered
    assert rendered == expected_rendering(value)
    # The same instant, down to the millisecond (sub-millisecond digits are truncated).
    utc = value.astimezone(UTC)
    assert datetime.fromisoformat(rendered) == utc - timedelta(microseconds=utc.microsecond % 1000)


def test_updated_after_examples() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_updated_after(datetime(2023, 6, 26, 16, 30, tzinfo=plus_two)) == (
        "2023-06-26T14:30:00.000Z"
    )
    assert format_updated_after(datetime(2022, 8, 7, 14, 1, 29, 196999, tzinfo=UTC)) == (
        "2022-08-07T14:01:29.196Z"
    )
    minus_five = timezone(timedelta(hours=-5))
    assert format_updated_after(datetime(2023, 12, 31, 22, 0, tzinfo=minus_five)) == (
        "2024-01-01T03:00:00.000Z"
    )


def test_updated_after_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone"):
        format_updated_after(datetime(2023, 6, 26, 14, 30))


def test_default_query_sends_only_the_explicit_booleans() -> None:
    for model in MODELS:
        assert ListQuery.of(model, {}).to_params() == {
            "include_deleted": "false",
            "ignore_unsupported_filters": "false",
        }, model.name


def test_a_query_knows_its_endpoint_and_model() -> None:
    for model in MODELS:
        query = ListQuery.of(model, {})
        assert query.path == model.path
        assert query.model is model


def test_a_parameter_the_endpoint_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="statuses"):
        ListQuery.of(INTERVIEWS, {"statuses": ("OPEN",)})
    # Another endpoint's parameter is refused too (job_ids is no parameter of /ats/jobs).
    with pytest.raises(ValueError, match="job_ids"):
        ListQuery.of(CATALOG["Job"], {"job_ids": ("j",)})


def test_by_ids_looks_up_deleted_records_too() -> None:
    for model in MODELS:
        params = ListQuery.by_ids(model, ("a", "b")).to_params()
        assert params["ids"] == "a,b"
        assert params["include_deleted"] == "true"


@given(model=st.sampled_from(MODELS), include_deleted=st.booleans(), ignore=st.booleans())
def test_booleans_render_as_true_or_false(
    model: Model, include_deleted: bool, ignore: bool
) -> None:
    params = ListQuery.of(
        model, {"include_deleted": include_deleted, "ignore_unsupported_filters": ignore}
    ).to_params()
    assert params["include_deleted"] == ("true" if include_deleted else "false")
    assert params["ignore_unsupported_filters"] == ("true" if ignore else "false")


values = st.text(min_size=1, max_size=10).filter(lambda v: "," not in v)


@given(
    ids=st.none() | st.lists(values, max_size=5).map(tuple),
    remote_ids=st.none() | st.lists(values, max_size=5).map(tuple),
    job_ids=st.none() | st.lists(values, max_size=5).map(tuple),
    updated_after=st.none() | aware_datetimes,
)
def test_list_filters_comma_joined_in_order_and_absent_when_none(
    ids: tuple[str, ...] | None,
    remote_ids: tuple[str, ...] | None,
    job_ids: tuple[str, ...] | None,
    updated_after: datetime | None,
) -> None:
    params = interviews(
        ids=ids, remote_ids=remote_ids, job_ids=job_ids, updated_after=updated_after
    ).to_params()
    for name, given_values in [("ids", ids), ("remote_ids", remote_ids), ("job_ids", job_ids)]:
        if given_values is None:
            assert name not in params
        else:
            assert params[name] == ",".join(given_values)
            if given_values:
                assert params[name].split(",") == list(given_values)
    if updated_after is None:
        assert "updated_after" not in params
    else:
        assert params["updated_after"] == expected_rendering(updated_after)
    assert set(params) <= {
        "ids",
        "remote_ids",
        "job_ids",
        "updated_after",
        "include_deleted",
        "ignore_unsupported_filters",
    }


@settings(max_examples=200)
@given(query=list_queries)
def test_every_parameter_of_every_endpoint_renders_by_its_kind(query: ListQuery) -> None:
    params = query.to_params()
    kinds = {p.name: p for p in query.model.params}
    assert list(params) == [name for name, _ in query.filters]
    for name, value in query.filters:
        param = kinds[name]
        if param.kind == "boolean":
            assert params[name] == ("true" if value else "false")
        elif param.kind == "datetime":
            assert isinstance(value, datetime)
            assert params[name] == expected_rendering(value)
        elif param.kind == "string":
            assert params[name] == value
        else:
            assert isinstance(value, tuple)
            assert params[name] == ",".join(value)
            if param.kind == "enums":
                assert param.enum is not None and set(value) <= set(param.enum.values)


@pytest.mark.parametrize(
    ("model", "param"),
    [(m, p.name) for m in MODELS for p in m.params if p.kind in ("ids", "strings", "enums")],
    ids=lambda v: v.name if isinstance(v, Model) else v,
)
def test_an_empty_list_matches_nothing(model: Model, param: str) -> None:
    assert ListQuery.of(model, {param: ()}).matches_nothing
    assert not ListQuery.of(model, {param: ("x",)}).matches_nothing
    assert not ListQuery.of(model, {param: None}).matches_nothing


def test_no_filter_matches_something() -> None:
    for model in MODELS:
        assert not ListQuery.of(model, {}).matches_nothing


def test_replace_sets_or_removes_one_parameter() -> None:
    query = interviews(ids=("a",), job_ids=("j",))
    assert query.replace("job_ids", ("k",)).to_params()["job_ids"] == "k"
    assert "job_ids" not in query.replace("job_ids", None).to_params()
    assert query.replace("job_ids", ()).matches_nothing
    assert query.replace("job_ids", ("k",)).get("ids") == ("a",)
    assert query.replace("job_ids", ("k",)).path == query.path


# Few characters, including the separators of a naive rendering, so that equal and
# almost-equal parameters are both drawn often.
tricky_values = st.text(alphabet="a&=", max_size=3)
tricky_lists = st.none() | st.lists(tricky_values, max_size=2).map(tuple)
few_instants = st.none() | st.sampled_from(
    [
        datetime(2023, 1, 1, tzinfo=UTC),
        datetime(2023, 1, 1, 2, tzinfo=timezone(timedelta(hours=2))),  # same instant
        datetime(2023, 1, 1, 0, 0, 0, 999, tzinfo=UTC),  # same millisecond
        datetime(2023, 1, 1, 0, 0, 0, 1000, tzinfo=UTC),
    ]
)
# Endpoints sharing every parameter name, so that the path alone tells some queries apart.
few_models = st.sampled_from([INTERVIEWS, CATALOG["Offer"], CATALOG["Tag"]])


@st.composite
def queries(draw: st.DrawFn) -> ListQuery:
    model = draw(few_models)
    filters: dict[str, Any] = {
        "remote_ids": draw(tricky_lists),
        "ids": draw(tricky_lists),
        "updated_after": draw(few_instants),
        "include_deleted": draw(st.booleans()),
        "ignore_unsupported_filters": draw(st.booleans()),
    }
    if model is INTERVIEWS:
        filters["job_ids"] = draw(tricky_lists)
    return ListQuery.of(model, filters)


def same_request(a: ListQuery, b: ListQuery) -> bool:
    return a.path == b.path and a.to_params() == b.to_params()


@settings(max_examples=200)
@given(a=queries(), b=queries())
@example(
    a=interviews(remote_ids=("a",), updated_after=datetime(2023, 1, 1, tzinfo=UTC)),
    b=interviews(remote_ids=("a&updated_after=2023-01-01T00:00:00.000Z",)),
)
@example(a=interviews(ids=("a", "b")), b=interviews(ids=("a,b",)))
@example(
    a=interviews(updated_after=datetime(2023, 1, 1, tzinfo=UTC)),
    b=interviews(updated_after=datetime(2023, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))),
)
@example(a=interviews(ids=("a",)), b=ListQuery.of(CATALOG["Tag"], {"ids": ("a",)}))
def test_digest_equal_iff_endpoint_and_params_equal(a: ListQuery, b: ListQuery) -> None:
    assert (a.digest() == b.digest()) == same_request(a, b)


@settings(max_examples=200)
@given(a=list_queries, b=list_queries)
def test_digest_equal_iff_endpoint_and_params_equal_on_every_endpoint(
    a: ListQuery, b: ListQuery
) -> None:
    assert (a.digest() == b.digest()) == same_request(a, b)


def test_the_same_filters_at_two_endpoints_have_two_digests() -> None:
    digests = {ListQuery.of(m, {"ids": ("x",)}).digest() for m in MODELS}
    assert len(digests) == len(MODELS)


def test_digest_is_short_and_stable() -> None:
    query = interviews(ids=("x", "y"), include_deleted=True)
    assert query.digest() == interviews(ids=("x", "y"), include_deleted=True).digest()
    assert re.fullmatch(r"[0-9a-f]{16}", query.digest())


@given(query=list_queries, page_size=st.integers(min_value=1, max_value=MAX_PAGE_SIZE))
def test_page_params_are_the_filters_plus_page_size(query: ListQuery, page_size: int) -> None:
    params = page_params(query, page_size, None)
    assert params == {**query.to_params(), "page_size": str(page_size)}
    assert "cursor" not in params


@given(
    page_size=st.integers(min_value=1, max_value=MAX_PAGE_SIZE),
    cursor=st.text(max_size=300),
)
@example(
    page_size=100,
    cursor="eyJwYWdlIjoxMiwibm90ZSI6InRoaXMgaXMganVzdCBhbiBleGFtcGxlIGFuZCBub3QgcmVwcmVzZW50YXRpdmUgZm9yIGEgcmVhbCBjdXJzb3IhIn0=",
)
def test_page_params_pass_the_cursor_through_verbatim(page_size: int, cursor: str) -> None:
    assert page_params(interviews(), page_size, cursor)["cursor"] == cursor


@given(
    page_size=st.integers(max_value=0) | st.integers(min_value=MAX_PAGE_SIZE + 1),
)
@example(page_size=0)
@example(page_size=MAX_PAGE_SIZE + 1)
def test_page_params_refuse_page_sizes_outside_1_to_250(page_size: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        page_params(interviews(), page_size, None)


def test_page_size_bounds_are_the_specs() -> None:
    assert MAX_PAGE_SIZE == 250
    assert page_params(interviews(), 1, None)["page_size"] == "1"
    assert page_params(interviews(), 250, None)["page_size"] == "250"
