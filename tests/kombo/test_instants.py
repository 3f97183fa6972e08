"""Kombo's date-times normalized once into the contract's answer (issue 12): any upstream string
answers exactly what parsing it into a datetime and formatting that answered before; Kombo's own
form passes through unchanged; the cache is bounded and changes no answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.kombo import instants
from gateway.kombo.instants import Instant, format_instant, is_exact, normalize
from gateway.kombo.parsing import parse_datetime
from gateway.schema.scalars import serialize_datetime
from tests.support.truth import answered_datetime

WIDE_YEAR = "".join(chr(0xFF10 + int(digit)) for digit in "2023")
"""2023 in fullwidth digits, which ``\\d`` and ``str.isdigit`` take."""

EXACT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"


def old_answer(value: Any) -> str | None:
    """What the gateway answered before issue 12: the record held ``parse_datetime(value)`` (an
    aware datetime, naive read as UTC, or None) and the DateTime scalar formatted it."""
    parsed = parse_datetime(value)
    return None if parsed is None else serialize_datetime(parsed)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    instants.clear_cache()
    yield
    instants.clear_cache()


def check(value: Any) -> None:
    expected = old_answer(value)
    for _ in range(2):  # normalized, then from the cache
        got = normalize(value)
        assert got == expected, value
        if got is not None:
            assert got.__class__ is Instant
            assert serialize_datetime(got) == expected


offsets = st.builds(
    timezone,
    st.timedeltas(min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23)),
)


@st.composite
def iso_strings(draw: st.DrawFn) -> str:
    """A datetime written in the ISO-8601 variants ``fromisoformat`` reads."""
    value = draw(st.datetimes(timezones=st.none() | st.just(UTC) | offsets))
    spec = draw(st.sampled_from(["auto", "seconds", "milliseconds", "microseconds", "minutes"]))
    text = value.isoformat(sep=draw(st.sampled_from(["T", " "])), timespec=spec)
    if draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    return text


@given(text=iso_strings())
@example(text="2023-06-26T14:30:00.000Z")
@example(text="2023-06-26T16:30:00.120+02:00")
@example(text="2023-06-26T14:30:00")
@example(text="2023-06-26")
@example(text="2023-06-26T14:30:00.123456Z")
@example(text="0001-01-01T01:00:00+02:00")  # year 0 in UTC
@example(text="9999-12-31T23:00:00-05:00")  # year 10000 in UTC
def test_any_iso_string_answers_what_parse_and_format_answered(text: str) -> None:
    check(text)


@given(text=st.from_regex(EXACT, fullmatch=True))
@example(text="2023-02-30T14:30:00.000Z")  # the form, but no such day
@example(text="2023-06-26T24:00:00.000Z")
@example(text="0000-01-01T00:00:00.000Z")  # no year 0 in Python
def test_the_exact_form_passes_through_when_it_is_an_instant(text: str) -> None:
    check(text)
    got = normalize(text)
    if got is not None:
        assert got == text  # unchanged
        assert got == answered_datetime(text)  # and the contract's answer, computed apart


@given(value=st.text(max_size=40) | st.from_regex(r"[0-9T:.Z+\-]{0,30}", fullmatch=True))
@example(value="next tuesday")
@example(value=WIDE_YEAR + "-06-26T14:30:00.000Z")  # other scripts' digits
@example(value="2023-06-26T14:30:00,000Z")
@example(value="2023-W26-1T14:30:00.000Z")
@example(value="")
def test_any_text_answers_as_before_or_is_null_as_before(value: str) -> None:
    check(value)


@pytest.mark.parametrize("value", [None, 1687789800, 1.5, True, [], {}, b"2023-06-26T14:30:00Z"])
def test_what_is_no_string_is_null(value: Any) -> None:
    assert normalize(value) is None


def test_kombos_form_is_kept_as_one_string() -> None:
    text = "2023-06-26T14:30:00.000Z"
    first = normalize(text)
    assert first == text and first.__class__ is Instant
    assert normalize("".join(["2023-06-26T14:30", ":00.000Z"])) is first  # a fresh copy: hit
    assert normalize(first) is first
    assert list(instants._cache) == [text] and instants._cache[text] is first


def test_other_forms_are_formatted_once() -> None:
    first = normalize("2023-06-26T16:30:00.120+02:00")
    assert first == "2023-06-26T14:30:00.120Z"
    assert normalize("2023-06-26T16:30:00.120+02:00") is first


def test_the_cache_is_bounded_and_starts_over_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instants, "MAX_CACHED", 10)
    texts = [f"2023-06-26T14:30:{second:02d}.000Z" for second in range(25)]
    for text in texts:
        assert normalize(text) == text
        assert len(instants._cache) <= 10
    assert list(instants._cache) == texts[20:]  # cleared at the 11th and the 21st
    assert normalize(texts[0]) == texts[0]  # forgotten, normalized again alike
    assert normalize("2023-06-26T16:30:00+02:00") == "2023-06-26T14:30:00.000Z"


def test_is_exact_is_the_form_only() -> None:
    assert is_exact("2023-06-26T14:30:00.000Z")
    assert is_exact("2023-02-30T14:30:00.000Z")  # normalize, not the form, checks the calendar
    assert not is_exact("2023-06-26T14:30:00Z")
    assert not is_exact("2023-06-26T14:30:00.000+00:00")
    assert not is_exact(WIDE_YEAR + "-06-26T14:30:00.000Z")
    assert not is_exact("2023-06-26T14:30:00.000Z\n")


def test_format_instant_is_the_scalars_answer_for_a_datetime() -> None:
    value = datetime(2023, 6, 26, 16, 30, 0, 123999, tzinfo=timezone(timedelta(hours=2)))
    assert format_instant(value) == serialize_datetime(value) == "2023-06-26T14:30:00.123Z"
