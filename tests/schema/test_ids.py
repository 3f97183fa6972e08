"""Global ids (gateway/schema/ids.py): ``gid://kombo/<Type>/<Kombo id>``, for every type."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.kombo.catalog import CATALOG
from gateway.schema.ids import (
    MAX_ID_CHARS,
    PREFIX,
    InvalidId,
    global_id,
    kombo_id_of,
    parse_global_id,
)

TYPES = frozenset(m.name for m in CATALOG)
type_names = st.sampled_from(sorted(TYPES))

# Any id Kombo could send: printable, no comma (lists travel comma-joined), within the bound.
kombo_ids = st.text(
    st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp", "Co", "Cn")),
    min_size=1,
    max_size=40,
).filter(lambda v: "," not in v and v.isprintable())


@given(type_name=type_names, kombo_id=kombo_ids)
@example(type_name="Interview", kombo_id="a/b")
@example(type_name="Job", kombo_id="50%25 off")
@example(type_name="User", kombo_id="%2F")
@example(type_name="Tag", kombo_id="Zürich/東京")
@example(type_name="Role", kombo_id="gid://kombo/Job/1")
def test_a_global_id_reads_back_as_its_type_and_id(type_name: str, kombo_id: str) -> None:
    text = global_id(type_name, kombo_id)
    assert text.startswith(f"{PREFIX}{type_name}/")
    assert text.count("/") == PREFIX.count("/") + 1, "the id part can hold no separator"
    assert parse_global_id(text, TYPES) == (type_name, kombo_id)
    assert kombo_id_of(text, type_name, TYPES) == kombo_id


@given(a=type_names, b=type_names, kombo_id=kombo_ids)
def test_global_ids_are_unique_across_types(a: str, b: str, kombo_id: str) -> None:
    assert (global_id(a, kombo_id) == global_id(b, kombo_id)) == (a == b)


@given(type_name=type_names, other=type_names, kombo_id=kombo_ids)
def test_an_argument_refuses_the_global_id_of_another_type(
    type_name: str, other: str, kombo_id: str
) -> None:
    if other == type_name:
        return
    with pytest.raises(InvalidId, match=f"not of an? {type_name}"):
        kombo_id_of(global_id(other, kombo_id), type_name, TYPES)


@given(type_name=type_names, kombo_id=kombo_ids.filter(lambda v: not v.startswith(PREFIX)))
def test_a_bare_kombo_id_is_taken_as_it_is(type_name: str, kombo_id: str) -> None:
    assert parse_global_id(kombo_id, TYPES) is None
    assert kombo_id_of(kombo_id, type_name, TYPES) == kombo_id


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a,b",
        "x" * (MAX_ID_CHARS + 1),
        "line\nbreak",
        "tab\there",
    ],
    ids=["empty", "comma", "too-long", "newline", "tab"],
)
def test_an_invalid_bare_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidId):
        kombo_id_of(text, "Interview", TYPES)


@pytest.mark.parametrize(
    "text",
    [
        f"{PREFIX}Nothing/1",  # no such type
        f"{PREFIX}Interview",  # no separator
        f"{PREFIX}Interview/",  # no id
        f"{PREFIX}interview/1",  # types are spelled as GraphQL names
        f"{PREFIX}Interview/a%2Cb",  # a comma, percent-encoded
        f"{PREFIX}Interview/%0A",  # a control character, percent-encoded
        f"{PREFIX}Interview/" + "x" * (MAX_ID_CHARS + 1),
    ],
)
def test_an_invalid_global_id_is_refused(text: str) -> None:
    with pytest.raises(InvalidId):
        parse_global_id(text, TYPES)
    with pytest.raises(InvalidId):
        kombo_id_of(text, "Interview", TYPES)


@given(text=st.text(max_size=30))
def test_parsing_any_text_gives_an_id_none_or_invalid_id(text: str) -> None:
    try:
        parsed = parse_global_id(text, TYPES)
    except InvalidId:
        assert text.startswith(PREFIX)
        return
    if parsed is None:
        assert not text.startswith(PREFIX)
    else:
        assert parsed[0] in TYPES and parsed[1]
