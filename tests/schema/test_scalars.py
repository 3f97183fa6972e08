"""The DateTime scalar: UTC with milliseconds out (toISOString's form), any offset accepted in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import strawberry
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.kombo.instants import normalize
from gateway.schema.scalars import DateTimeScalar, parse_datetime_input, serialize_datetime
from tests.support.truth import answered_datetime

PLUS_TWO = timezone(timedelta(hours=2))

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ).map(lambda d: timedelta(minutes=d // timedelta(minutes=1))),
)
aware_datetimes = st.datetimes(timezones=st.just(UTC) | fixed_offsets | st.timezones())


JS_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
"""``Date.prototype.toISOString()`` for years 0-9999."""


def truncated_to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def test_serialize_keeps_milliseconds_in_utc_with_z() -> None:
    value = datetime(2022, 8, 7, 14, 1, 29, 196000, tzinfo=UTC)
    assert serialize_datetime(value) == "2022-08-07T14:01:29.196Z"


def test_serialize_pads_whole_seconds_to_three_fraction_digits() -> None:
    assert serialize_datetime(datetime(2023, 6, 26, 14, 30, tzinfo=UTC)) == (
        "2023-06-26T14:30:00.000Z"
    )


def test_serialize_moves_an_offset_to_utc_and_truncates_microseconds() -> None:
    assert serialize_datetime(datetime(2023, 6, 26, 16, 30, 0, 120000, tzinfo=PLUS_TWO)) == (
        "2023-06-26T14:30:00.120Z"
    )
    # Truncated, never rounded (as toISOString and the upstream ``updated_after`` filter).
    assert serialize_datetime(datetime(2023, 6, 26, 16, 30, 0, 123999, tzinfo=PLUS_TWO)) == (
        "2023-06-26T14:30:00.123Z"
    )
    assert serialize_datetime(datetime(2023, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == (
        "2023-12-31T23:59:59.999Z"
    )


def test_serialize_crosses_a_day_and_a_year_when_moving_to_utc() -> None:
    minus_five = timezone(timedelta(hours=-5))
    assert serialize_datetime(datetime(2023, 12, 31, 20, 0, tzinfo=minus_five)) == (
        "2024-01-01T01:00:00.000Z"
    )


def test_serialize_zero_pads_years_before_1000() -> None:
    assert serialize_datetime(datetime(999, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == (
        "0999-01-02T03:04:05.006Z"
    )
    assert serialize_datetime(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"


def test_serialize_writes_javascripts_year_0_and_year_10000_at_the_edges() -> None:
    """Python's datetimes stop at years 1 and 9999; toISOString writes year 0 in four digits and
    year 10000 as ``+010000`` (tests/e2e/test_codegen.py has node agree)."""
    assert serialize_datetime(datetime(1, 1, 1, 1, 0, tzinfo=PLUS_TWO)) == (
        "0000-12-31T23:00:00.000Z"
    )
    assert serialize_datetime(
        datetime(9999, 12, 31, 23, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5)))
    ) == ("+010000-01-01T04:00:00.999Z")


def test_serialize_reads_a_naive_datetime_as_utc() -> None:
    assert serialize_datetime(datetime(2023, 6, 26, 14, 30)) == "2023-06-26T14:30:00.000Z"


def test_serialize_tells_apart_the_two_instants_of_a_repeated_local_hour() -> None:
    adak = ZoneInfo("America/Adak")
    first = datetime(1999, 10, 31, 1, 0, tzinfo=adak)
    second = datetime(1999, 10, 31, 1, 0, fold=1, tzinfo=adak)
    assert first == second  # Python's wall-clock equality: no cache may key on it
    assert serialize_datetime(first) == "1999-10-31T10:00:00.000Z"
    assert serialize_datetime(second) == "1999-10-31T11:00:00.000Z"
    assert serialize_datetime(first) == "1999-10-31T10:00:00.000Z"


def test_serialize_answers_equal_instants_alike() -> None:
    utc = datetime(2023, 6, 26, 14, 30, 0, 5000, tzinfo=UTC)
    assert serialize_datetime(utc) == "2023-06-26T14:30:00.005Z"
    assert serialize_datetime(utc.astimezone(PLUS_TWO)) == "2023-06-26T14:30:00.005Z"


@pytest.mark.parametrize(
    "value",
    [
        "2023-06-26T14:30:00Z",
        # A plain string is never vouched for, even in the answer's form: only the Kombo parser
        # makes the Instant strings passed through.
        "2023-06-26T14:30:00.000Z",
        "2023-02-30T14:30:00.000Z",
        1687789800,
        date(2023, 6, 26),
    ],
)
def test_serialize_refuses_what_is_no_datetime(value: Any) -> None:
    with pytest.raises(TypeError, match=r"DateTime cannot represent a non datetime value"):
        serialize_datetime(value)


def test_serialize_passes_a_parsed_instant_through_as_is() -> None:
    instant = normalize("2023-06-26T14:30:00.000Z")
    assert instant is not None
    assert serialize_datetime(instant) is instant
    converted = normalize("2023-06-26T16:30:00.120999+02:00")
    assert converted is not None
    assert serialize_datetime(converted) == "2023-06-26T14:30:00.120Z"


@given(value=aware_datetimes)
def test_serialize_answers_a_datetime_and_its_normalized_text_alike(value: datetime) -> None:
    instant = normalize(value.isoformat())
    assert instant is not None
    assert serialize_datetime(instant) == serialize_datetime(value) == answered_datetime(value)


@given(value=aware_datetimes)
@example(value=datetime(1999, 10, 31, 1, 0, tzinfo=ZoneInfo("America/Adak")))
@example(value=datetime(1999, 10, 31, 1, 0, fold=1, tzinfo=ZoneInfo("America/Adak")))
@example(value=datetime(1, 1, 1, 12, 0, tzinfo=UTC))
@example(value=datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
def test_serialize_is_javascripts_iso_string_and_round_trips_to_the_millisecond(
    value: datetime,
) -> None:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # year 0 or 10000 in UTC: the test above
        return
    text = serialize_datetime(value)
    assert JS_ISO.fullmatch(text), text
    assert text == answered_datetime(value)
    parsed = parse_datetime_input(text)
    assert parsed == truncated_to_ms(utc)
    assert parsed.utcoffset() == timedelta(0)
    # Idempotent: an answer fed back as input answers itself (what `new Date(s).toISOString()`
    # does in JavaScript).
    assert serialize_datetime(parsed) == text


@given(first=aware_datetimes, second=aware_datetimes)
def test_serialize_orders_as_the_instants_do(first: datetime, second: datetime) -> None:
    """The answers sort as strings in the order of their instants (to the millisecond)."""
    try:
        a, b = truncated_to_ms(first.astimezone(UTC)), truncated_to_ms(second.astimezone(UTC))
    except OverflowError:
        return
    assert (serialize_datetime(first) < serialize_datetime(second)) == (a < b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-06-26T14:30:00+00:00", datetime(2023, 6, 26, 14, 30, tzinfo=UTC)),
        ("2023-06-26T14:30:00Z", datetime(2023, 6, 26, 14, 30, tzinfo=UTC)),
        ("2023-06-26T14:30:00.000Z", datetime(2023, 6, 26, 14, 30, tzinfo=UTC)),
        ("2023-06-26T16:30:00.5+02:00", datetime(2023, 6, 26, 16, 30, 0, 500000, PLUS_TWO)),
    ],
)
def test_parse_accepts_iso_8601_with_an_offset(text: str, expected: datetime) -> None:
    parsed = parse_datetime_input(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text", ["2023-06-26T14:30:00", "2023-06-26T14:30:00.196", "2023-06-26", "2023-06-26 14:30"]
)
def test_parse_refuses_a_naive_datetime_saying_it_needs_an_offset(text: str) -> None:
    with pytest.raises(ValueError, match=r"needs a UTC offset") as caught:
        parse_datetime_input(text)
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [20230626, 1687789800.0, None, True, ["2023-06-26T14:30:00Z"], {"at": "x"}],
    ids=["int", "float", "null", "bool", "list", "object"],
)
def test_parse_refuses_non_strings_saying_it_wants_a_string(value: Any) -> None:
    with pytest.raises(ValueError, match=r"must be an ISO-8601 string such as"):
        parse_datetime_input(value)


def test_parse_refuses_a_datetime_object() -> None:
    with pytest.raises(ValueError, match=r"must be an ISO-8601 string"):
        parse_datetime_input(datetime(2023, 6, 26, tzinfo=UTC))


@given(text=st.text(max_size=40))
def test_parse_refuses_garbage_with_value_error_only(text: str) -> None:
    try:
        parsed = parse_datetime_input(text)
    except ValueError as exc:
        assert "DateTime" in str(exc)
    else:
        assert parsed.tzinfo is not None


@pytest.mark.parametrize("text", ["yesterday", "2023-13-01T00:00:00Z", "", "26/06/2023 14:30"])
def test_parse_refuses_non_iso_strings_quoting_them(text: str) -> None:
    with pytest.raises(ValueError, match=r"must be ISO-8601 such as") as caught:
        parse_datetime_input(text)
    assert repr(text) in str(caught.value)


# --- through a schema that maps datetime to the scalar, as the gateway's does ----------------


@strawberry.type
class _Query:
    @strawberry.field
    def at(self) -> datetime:
        return datetime(2022, 8, 7, 14, 1, 29, 196000, tzinfo=UTC)

    @strawberry.field
    def echo(self, value: datetime) -> datetime:
        return value


SCHEMA = strawberry.Schema(query=_Query, scalar_overrides={datetime: DateTimeScalar})


def test_schema_serializes_in_utc_with_milliseconds() -> None:
    result = SCHEMA.execute_sync("{ at }")
    assert result.errors is None
    assert result.data == {"at": "2022-08-07T14:01:29.196Z"}


def test_schema_echoes_an_offset_datetime_in_utc() -> None:
    result = SCHEMA.execute_sync(
        "query($v: DateTime!) { echo(value: $v) }",
        variable_values={"v": "2023-06-26T16:30:00+02:00"},
    )
    assert result.errors is None
    assert result.data == {"echo": "2023-06-26T14:30:00.000Z"}


def test_schema_echoes_a_literal_with_sub_millisecond_digits_truncated() -> None:
    result = SCHEMA.execute_sync('{ echo(value: "2023-06-26T14:30:00.1239-01:00") }')
    assert result.errors is None
    assert result.data == {"echo": "2023-06-26T15:30:00.123Z"}


@pytest.mark.parametrize(
    ("value", "message"),
    [("2023-06-26T14:30:00", "needs a UTC offset"), (42, "must be an ISO-8601 string")],
)
def test_schema_refuses_bad_variables_with_the_scalars_message(value: Any, message: str) -> None:
    result = SCHEMA.execute_sync(
        "query($v: DateTime!) { echo(value: $v) }", variable_values={"v": value}
    )
    assert result.data is None
    assert result.errors
    assert message in result.errors[0].message


@pytest.mark.parametrize(
    ("literal", "message"),
    [('"2023-06-26T14:30:00"', "needs a UTC offset"), ("42", "must be an ISO-8601 string")],
)
def test_schema_refuses_bad_literals_with_the_scalars_message(literal: str, message: str) -> None:
    result = SCHEMA.execute_sync(f"{{ echo(value: {literal}) }}")
    assert result.data is None
    assert result.errors
    assert message in result.errors[0].message


# --- the gateway's schema as codegen reads it -------------------------------------------------


def test_gateway_schema_specifies_datetime_by_rfc_3339_and_json_by_ecma_404() -> None:
    from gateway.schema import build_schema

    sdl = build_schema().as_str()
    assert 'scalar DateTime @specifiedBy(url: "https://datatracker.ietf.org/doc/html/rfc3339")' in (
        sdl
    )
    assert re.search(
        r'scalar JSON @specifiedBy\(url: "https://ecma-international\.org/[^"]*ECMA-404', sdl
    )
