"""`gateway.http.vary.merge_vary`: each name once, in order, whoever adds it."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

from gateway.http.vary import merge_vary


def vary_after(existing: list[str], *names: str) -> str | None:
    headers = MutableHeaders(raw=[(b"vary", value.encode()) for value in existing])
    merge_vary(headers, *names)
    return headers.get("vary")


def test_names_are_added_once_case_insensitively_in_order() -> None:
    assert vary_after([], "Accept", "Origin") == "Accept, Origin"
    assert vary_after(["Accept"], "accept", "Origin") == "Accept, Origin"
    assert vary_after(["Accept, Origin", "origin"], "Origin", "Authorization") == (
        "Accept, Origin, Authorization"
    )


def test_a_star_stays_alone() -> None:
    assert vary_after(["*"], "Origin") == "*"


def test_nothing_to_add_leaves_no_header() -> None:
    assert vary_after([]) is None
