"""The typed readers of `gateway.config.readers`: a value in range is read as itself, anything
else is refused with a message naming the variable, quoting the value, and saying the range and
the default."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.config import Environment, SettingsError

NAME = "GATEWAY_SOMETHING"


def refused(read: object) -> str:
    assert callable(read)
    with pytest.raises(SettingsError) as info:
        read()
    return str(info.value)


@given(st.integers(min_value=0, max_value=10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_a_whole_number_in_range_is_read_and_one_outside_is_refused(
    value: int, low: int, high: int
) -> None:
    env = Environment({NAME: f" {value} "})
    if low <= value <= high:
        assert env.whole_number(NAME, low, low, high) == value
    else:
        message = refused(lambda: env.whole_number(NAME, low, low, high))
        assert message == (
            f"{NAME} must be a whole number from {low} to {high}, got '{value}' (default {low})"
        )


@given(st.text())
def test_a_whole_number_is_digits_only(text: str) -> None:
    env = Environment({NAME: text})
    stripped = text.strip()
    if not stripped:
        assert env.whole_number(NAME, 7, 0, 10**9) == 7  # blank is unset
    elif stripped.isdigit() and int(stripped) <= 10**9:
        assert env.whole_number(NAME, 7, 0, 10**9) == int(stripped)
    else:
        assert NAME in refused(lambda: env.whole_number(NAME, 7, 0, 10**9))


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_seconds_are_a_number_within_the_range(value: float) -> None:
    env = Environment({NAME: repr(value)})
    if 0.1 <= value <= 600:
        assert env.seconds(NAME, 10.0, 0.1, 600) == value
    else:
        message = refused(lambda: env.seconds(NAME, 10.0, 0.1, 600))
        assert message.startswith(f"{NAME} must be between 0.1 and 600 seconds")
        assert "(default 10)" in message
        assert math.isnan(value) or repr(value) in message


def test_seconds_that_are_no_number_say_so() -> None:
    message = refused(lambda: Environment({NAME: "soon"}).seconds(NAME, 25.0, 0, 3600))
    assert message == f"{NAME} must be a number of seconds from 0 to 3600, got 'soon' (default 25)"


def test_a_port_says_its_range() -> None:
    assert Environment({}).port("PORT", 8000) == 8000
    assert refused(lambda: Environment({"PORT": "eighty"}).port("PORT", 8000)).startswith(
        "PORT must be a whole number"
    )
    assert refused(lambda: Environment({"PORT": "70000"}).port("PORT", 8000)).startswith(
        "PORT must be between 0 and 65535"
    )


@given(st.sampled_from(["true", "TRUE", "1", "yes", "false", "0", "No", "", "  "]))
def test_a_flag(text: str) -> None:
    expected = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    assert Environment({NAME: text}).flag(NAME, default=True) == expected.get(
        text.strip().lower(), True
    )


def test_a_flag_refuses_anything_else() -> None:
    assert refused(lambda: Environment({NAME: "perhaps"}).flag(NAME)) == (
        f"{NAME} must be 'true' or 'false', got 'perhaps'"
    )


def test_a_choice_names_its_choices() -> None:
    env = Environment({"A": "JSON", "B": "loud"})
    assert env.choice("A", ("text", "json"), "text", any_case=True) == "json"
    assert refused(lambda: env.choice("A", ("text", "json"), "text")) == (
        "A must be 'text' or 'json', got 'JSON'"
    )
    assert refused(lambda: env.choice("B", ("debug", "info", "error"), "info")) == (
        "B must be one of debug, info, error, got 'loud'"
    )


def test_an_http_url() -> None:
    assert Environment({}).http_url(NAME, "https://a.example") == "https://a.example"
    assert refused(lambda: Environment({NAME: "ftp://x"}).http_url(NAME)) == (
        f"{NAME} must be an http(s) URL, got 'ftp://x'"
    )


@given(st.lists(st.text(alphabet="abc ,", max_size=5), max_size=5))
def test_items_are_split_trimmed_and_never_empty(parts: list[str]) -> None:
    items = Environment({NAME: ",".join(parts)}).items(NAME)
    assert all(item and item == item.strip() and "," not in item for item in items)
    assert ",".join(items) == ",".join(
        p.strip() for part in parts for p in part.split(",") if p.strip()
    )
