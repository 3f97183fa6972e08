"""`gateway.http.negotiation`: the offer an `Accept` header prefers."""

from __future__ import annotations

import pytest

from gateway.http import GRAPHQL_RESPONSE_JSON, JSON, negotiate

HTML = "text/html"

OFFERS = (JSON, GRAPHQL_RESPONSE_JSON, HTML)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {JSON}", GRAPHQL_RESPONSE_JSON),
        (f"{JSON}, {GRAPHQL_RESPONSE_JSON}", JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.9, {JSON}", JSON),
        (f"{JSON};q=0.8, {GRAPHQL_RESPONSE_JSON};charset=utf-8", GRAPHQL_RESPONSE_JSON),
        (f"*/*, {GRAPHQL_RESPONSE_JSON}", GRAPHQL_RESPONSE_JSON),  # exact beats wildcard
        (f"{JSON}; charset=iso-8859-1, {GRAPHQL_RESPONSE_JSON};q=0.1", GRAPHQL_RESPONSE_JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", HTML),
        ("TEXT/HTML", HTML),
        ("text/plain", None),
        (f"{JSON};q=0", None),
        (f"*/*;q=0.5, {JSON};q=0", GRAPHQL_RESPONSE_JSON),
        ("garbage, ;;, /", None),
    ],
)
def test_negotiate_picks_the_clients_preferred_offer(accept: str | None, expected: str) -> None:
    assert negotiate(accept, OFFERS) == expected
