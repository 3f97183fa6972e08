"""The edge cursor codec: lossless, tamper-evident, bound to its integration and key."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from gateway.kombo.parsing import MAX_UPSTREAM_CURSOR_CHARS
from gateway.schema.cursors import (
    END,
    MAX_CURSOR_CHARS,
    START,
    CursorSigner,
    EdgeCursor,
    InvalidCursor,
    Position,
)

KEY = b"k1-" + bytes(range(29))
OTHER_KEY = b"k2-" + bytes(range(29))
INTEGRATION = "workday:HWUTwvyx2wLoSUHphiWVrp28"
OTHER_INTEGRATION = "greenhouse:B5DVmypWENfU6eMe6gYDyJG3"

# Every character a cursor can be altered to: its own alphabet, the standard base64 alphabet that
# a lenient decoder would accept as well, padding, separators, whitespace and non-ASCII.
ALTERATION_CHARS = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \n\t!%~é€😀\x00"
)

upstream_cursors = st.none() | st.text(max_size=300) | st.text(min_size=1000, max_size=3000)

positions = st.builds(
    Position,
    upstream_cursor=upstream_cursors,
    skip=st.integers(min_value=0, max_value=10_000),
    exhausted=st.booleans(),
)

edge_cursors = st.builds(
    EdgeCursor,
    position=positions | st.sampled_from([START, END]),
    page_size=st.integers(min_value=1, max_value=250),
    query_digest=st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)
    | st.text(max_size=64),
)

integrations = st.text(min_size=1, max_size=60)
keys = st.binary(min_size=1, max_size=64)


@settings(max_examples=200)
@given(cursor=edge_cursors, key=keys, integration=integrations)
@example(
    cursor=EdgeCursor(Position('ünïcødé ✓ 😀 "quoted" \\ ,&=', 3), 250, "ab" * 8),
    key=KEY,
    integration=INTEGRATION,
)
def test_decode_of_encode_is_identity(cursor: EdgeCursor, key: bytes, integration: str) -> None:
    text = cursor.encode(key, integration)
    assert EdgeCursor.decode(text, key, integration) == cursor


@settings(max_examples=100)
@given(
    page=st.lists(positions, min_size=1, max_size=20),
    page_size=st.integers(min_value=1, max_value=250),
    key=keys,
    integration=integrations,
)
def test_one_signer_for_a_page_signs_each_edge_as_a_signer_of_its_own(
    page: list[Position], page_size: int, key: bytes, integration: str
) -> None:
    # A connection's signer keeps, per upstream page, the MAC's state after the shared head and
    # copies it for each edge: each cursor must be the one signed from scratch.
    shared = CursorSigner(page_size, "ab" * 8, key, integration)
    for position in page:
        alone = CursorSigner(page_size, "ab" * 8, key, integration).encode(position)
        assert shared.encode(position) == alone
        assert EdgeCursor.decode(alone, key, integration).position == position


def test_longest_upstream_cursors_still_round_trip() -> None:
    # 3000 characters that each take 12 bytes of JSON: the worst case the strategies draw.
    cursor = EdgeCursor(Position("\U0001f600" * 3000, 249), 250, "f" * 16)
    text = cursor.encode(KEY, INTEGRATION)
    assert len(text) <= MAX_CURSOR_CHARS
    assert EdgeCursor.decode(text, KEY, INTEGRATION) == cursor


def test_cursor_too_long_to_decode_is_not_issued() -> None:
    cursor = EdgeCursor(Position("x" * MAX_CURSOR_CHARS, 0), 100, "f" * 16)
    with pytest.raises(ValueError, match="too long"):
        cursor.encode(KEY, INTEGRATION)


@given(cursor=edge_cursors)
def test_encoded_cursor_is_url_safe_ascii(cursor: EdgeCursor) -> None:
    text = cursor.encode(KEY, INTEGRATION)
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert set(text) <= allowed


@settings(max_examples=200)
@given(cursor=edge_cursors, data=st.data())
def test_any_single_character_change_is_rejected(cursor: EdgeCursor, data: st.DataObject) -> None:
    text = cursor.encode(KEY, INTEGRATION)
    index = data.draw(st.integers(min_value=0, max_value=len(text) - 1), label="index")
    replacement = data.draw(st.sampled_from(ALTERATION_CHARS), label="replacement")
    assume(replacement != text[index])
    altered = text[:index] + replacement + text[index + 1 :]
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(altered, KEY, INTEGRATION)


def test_every_last_character_change_of_the_signature_is_rejected() -> None:
    """The signature's last base64 digit carries unused bits: no other digit may stand for it."""
    text = EdgeCursor(Position("abc", 7), 50, "0" * 16).encode(KEY, INTEGRATION)
    for replacement in ALTERATION_CHARS:
        if replacement == text[-1]:
            continue
        with pytest.raises(InvalidCursor):
            EdgeCursor.decode(text[:-1] + replacement, KEY, INTEGRATION)


@given(cursor=edge_cursors, data=st.data())
def test_any_truncation_is_rejected(cursor: EdgeCursor, data: st.DataObject) -> None:
    text = cursor.encode(KEY, INTEGRATION)
    start = data.draw(st.integers(min_value=0, max_value=len(text) - 1), label="start")
    end = data.draw(st.integers(min_value=start, max_value=len(text)), label="end")
    assume((start, end) != (0, len(text)))
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(text[start:end], KEY, INTEGRATION)


@given(
    cursor=edge_cursors,
    suffix=st.text(alphabet=ALTERATION_CHARS, min_size=1, max_size=8),
    at_start=st.booleans(),
)
def test_any_extension_is_rejected(cursor: EdgeCursor, suffix: str, at_start: bool) -> None:
    text = cursor.encode(KEY, INTEGRATION)
    extended = suffix + text if at_start else text + suffix
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(extended, KEY, INTEGRATION)


@given(cursor=edge_cursors, a=integrations, b=integrations)
def test_cursor_for_one_integration_fails_for_another(cursor: EdgeCursor, a: str, b: str) -> None:
    assume(a != b)
    text = cursor.encode(KEY, a)
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(text, KEY, b)


@given(cursor=edge_cursors, k1=keys, k2=keys)
def test_cursor_signed_with_one_key_fails_with_another(
    cursor: EdgeCursor, k1: bytes, k2: bytes
) -> None:
    assume(k1 != k2)
    # HMAC pads short keys with zero bytes: keys that differ only by trailing zeros are one key.
    assume(k1.rstrip(b"\x00") != k2.rstrip(b"\x00"))
    text = cursor.encode(k1, INTEGRATION)
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(text, k2, INTEGRATION)


def test_fixed_keys_and_integrations_are_not_interchangeable() -> None:
    text = EdgeCursor(Position("next-page", 2), 100, "f" * 16).encode(KEY, INTEGRATION)
    assert EdgeCursor.decode(text, KEY, INTEGRATION).position == Position("next-page", 2)
    for key, integration in [(OTHER_KEY, INTEGRATION), (KEY, OTHER_INTEGRATION)]:
        with pytest.raises(InvalidCursor):
            EdgeCursor.decode(text, key, integration)


@settings(max_examples=200)
@given(garbage=st.text(max_size=200) | st.text(alphabet=ALTERATION_CHARS, max_size=200))
@example(garbage="")
@example(garbage=".")
@example(garbage="a.b")
@example(garbage="W10.AAAAAAAAAAAAAAAAAAAAAA")
@example(garbage="x" * 9000 + "." + "y")
def test_garbage_raises_invalid_cursor_and_nothing_else(garbage: str) -> None:
    # pytest.raises(InvalidCursor) lets any other exception through, failing the test.
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(garbage, KEY, INTEGRATION)


@pytest.mark.parametrize("not_text", [None, 42, b"abc.def", ["a.b"]])
def test_non_string_raises_invalid_cursor(not_text: object) -> None:
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(not_text, KEY, INTEGRATION)  # type: ignore[arg-type]


def test_invalid_cursor_is_a_value_error() -> None:
    assert issubclass(InvalidCursor, ValueError)


@settings(max_examples=100)
@given(upstream=st.text(max_size=MAX_UPSTREAM_CURSOR_CHARS), skip=st.integers(0, 249))
@example(upstream="\U0001f600" * MAX_UPSTREAM_CURSOR_CHARS, skip=249)  # 12 JSON bytes each
@example(upstream="\x00" * MAX_UPSTREAM_CURSOR_CHARS, skip=249)  # 6 JSON bytes each
def test_every_upstream_cursor_kombo_is_taken_at_fits_in_an_edge_cursor(
    upstream: str, skip: int
) -> None:
    # Issue 8, finding 8: a 48 KiB `next` made encode raise (INTERNAL_SERVER_ERROR). The Kombo
    # models refuse longer ones, so encode never raises for a cursor that reaches it.
    cursor = EdgeCursor(Position(upstream, skip), 250, "f" * 16)
    text = cursor.encode(KEY, INTEGRATION)
    assert EdgeCursor.decode(text, KEY, INTEGRATION) == cursor


def test_a_cursor_of_the_previous_version_signed_with_hmac_sha256_is_rejected() -> None:
    # Version 1 cursors (before keyed BLAKE2b) were HMAC-SHA256 of the same bytes, cut to 16.
    import base64
    import hmac

    payload = b'[1,100,"digest",null,5,false]'
    mac = hmac.digest(KEY, INTEGRATION.encode() + b"\x00" + payload, "sha256")[:16]
    old = ".".join(base64.urlsafe_b64encode(part).rstrip(b"=").decode() for part in (payload, mac))
    with pytest.raises(InvalidCursor):
        EdgeCursor.decode(old, KEY, INTEGRATION)
    fresh = EdgeCursor(Position(None, 5), 100, "digest").encode(KEY, INTEGRATION)
    assert EdgeCursor.decode(fresh, KEY, INTEGRATION).position == Position(None, 5)
