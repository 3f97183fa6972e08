"""The DateTime scalar: ISO-8601 with an offset out, and only that accepted in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import strawberry
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.schema.scalars import DateTimeScalar, parse_datetime_input, serialize_datetime

PLUS_TWO = timezone(timedelta(hours=2))

fixed_offsets = st.builds(
    timezone,
    st.timedeltas(
        min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
    ).map(lambda d: timedelta(minutes=d // timedelta(minutes=1))),
)
aware_datetimes = st.datetimes(timezones=st.just(UTC) | fixed_offsets | st.timezones())


def test_serialize_keeps_milliseconds() -> None:
    value = datetime(2022, 8, 7, 14, 1, 29, 196000, tzinfo=UTC)
    assert serialize_datetime(value) == "2022-08-07T14:01:29.196+00:00"


def test_serialize_prints_whole_seconds_without_a_fraction() -> None:
    assert serialize_datetime(datetime(2023, 6, 26, 14, 30, tzinfo=UTC)) == (
        "2023-06-26T14:30:00+00:00"
    )


def test_serialize_keeps_the_offset_and_microseconds() -> None:
    assert serialize_datetime(datetime(2023, 6, 26, 16, 30, 0, 120000, tzinfo=PLUS_TWO)) == (
        "2023-06-26T16:30:00.120+02:00"
    )
    assert serialize_datetime(datetime(2023, 6, 26, 16, 30, 0, 123456, tzinfo=PLUS_TWO)) == (
        "2023-06-26T16:30:00.123456+02:00"
    )


@given(value=aware_datetimes)
@example(value=datetime(1999, 10, 31, 1, 0, tzinfo=ZoneInfo("America/Adak")))
@example(value=datetime(1999, 10, 31, 1, 0, fold=1, tzinfo=ZoneInfo("America/Adak")))
def test_serialize_is_iso_8601_with_offset_and_round_trips(value: datetime) -> None:
    text = serialize_datetime(value)
    match = re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.(\d{3}|\d{6}))?[+-]\d{2}:\d{2}(?::\d{2})?", text
    )
    assert match, text
    fraction = match.group(1)
    if value.microsecond == 0:
        assert fraction is None
    elif value.microsecond % 1000 == 0:
        assert fraction is not None and len(fraction) == 3
    else:
        assert fraction is not None and len(fraction) == 6
    parsed = parse_datetime_input(text)
    # The same instant and offset (compared in UTC: Python never calls an ambiguous local time of
    # a zone equal to a datetime with another tzinfo).
    assert parsed.astimezone(UTC) == value.astimezone(UTC)
    assert parsed.utcoffset() == value.utcoffset()


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


def test_schema_serializes_with_milliseconds_and_offset() -> None:
    result = SCHEMA.execute_sync("{ at }")
    assert result.errors is None
    assert result.data == {"at": "2022-08-07T14:01:29.196+00:00"}


def test_schema_echoes_an_offset_datetime() -> None:
    result = SCHEMA.execute_sync(
        "query($v: DateTime!) { echo(value: $v) }",
        variable_values={"v": "2023-06-26T16:30:00+02:00"},
    )
    assert result.errors is None
    assert result.data == {"echo": "2023-06-26T16:30:00+02:00"}


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
