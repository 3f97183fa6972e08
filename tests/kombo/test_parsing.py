"""Kombo's JSON read into records (dicts typed by class): every model from the spec's own
examples, tolerance, unknown enum values, inline records, and malformed bodies."""

from __future__ import annotations

import copy
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.kombo import RECORDS, Page, Record, parsing
from gateway.kombo.catalog import CATALOG, EnumShape, ListShape, Model, ObjectShape, UnionShape
from gateway.kombo.errors import KomboMalformedResponse, KomboUnavailable
from gateway.kombo.instants import Instant, format_instant, normalize
from gateway.kombo.parsing import parse_datetime, parse_page, parse_record
from tests.support.kombo_api import SPEC_EXAMPLE
from tests.support.kombo_json import raw_object

INTERVIEWS = CATALOG["Interview"]
MS_196 = "2022-08-07T14:01:29.196Z"  # date-times are kept as the contract answers them
SPEC_FILE = Path(__file__).parents[2] / "gateway/kombo/spec/kombo-ats-read.openapi.yaml"
SPEC = yaml.safe_load(SPEC_FILE.read_text("utf-8"))


def spec_examples(model: Model) -> list[Any]:
    """The example bodies of ``model``'s endpoint, as the spec gives them."""
    content = SPEC["paths"][model.path]["get"]["responses"]["200"]["content"]["application/json"]
    return [example["value"] for example in content["examples"].values()]


EXPECTED_INTERVIEW = {
    "id": "26vafvWSRmbhNcxJYqjCzuJg",
    "remote_id": "32",
    "title": "Interview with John Doe",
    "starting_at": "2023-06-26T14:30:00.000Z",
    "ending_at": "2023-06-26T15:30:00.000Z",
    "location": {
        "city": "Berlin",
        "country": "DE",
        "raw": "Berlin, Germany",
        "state": "Berlin",
        "street_1": "Lohmühlenstraße 65",
        "street_2": None,
        "zip_code": "12435",
    },
    "video_conferencing_url": "https://meet.example.com/interview-abc123",
    "application_id": "H77fDF8uvEzGNPRubiz5DvQ7",
    "stage_id": "H5daSm8e85Dmvmne3wLeCPhX",
    "canceled": False,
    "remote_created_at": MS_196,
    "remote_updated_at": MS_196,
    "remote_data": None,
    "changed_at": MS_196,
    "remote_deleted_at": None,
    "users": (
        {
            "id": "26vafvWSRmbhNcxJYqjCzuJg",
            "remote_id": "32",
            "first_name": "John",
            "last_name": "Doe",
            "email": "john.doe@kombo.dev",
        },
    ),
    "application": {
        "id": "H77fDF8uvEzGNPRubiz5DvQ7",
        "remote_id": "32",
        "outcome": "HIRED",
        "rejection_reason_name": None,
        "candidate": {
            "id": "26vafvWSRmbhNcxJYqjCzuJg",
            "remote_id": "32",
            "first_name": "John",
            "last_name": "Doe",
            "email_addresses": ({"email_address": "john.doe@example.com", "type": "PRIVATE"},),
        },
        "job": {"id": "H5daSm8e85Dmvmne3wLeCPhX", "remote_id": "32", "name": "Backend Engineer"},
    },
}


def parse_interview_page(body: Any) -> Page:
    return parse_page(INTERVIEWS, body)


def example_body() -> dict[str, Any]:
    return copy.deepcopy(SPEC_EXAMPLE)


def interview_of(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = body["data"]["results"][0]
    return result


def test_spec_example_parses_into_typed_records() -> None:
    page = parse_interview_page(example_body())
    assert isinstance(page, Page)
    assert page.path == "/ats/interviews"
    assert page.next == SPEC_EXAMPLE["data"]["next"]
    assert page.results == (EXPECTED_INTERVIEW,)
    interview = page.results[0]
    # Kombo's date-times are already the contract's answers: kept, marked as checked.
    assert interview["changed_at"].__class__ is Instant
    assert parse_datetime(interview["changed_at"]) == datetime(
        2022, 8, 7, 14, 1, 29, 196000, tzinfo=UTC
    )
    assert interview["application"]["outcome"] == "HIRED"


def test_last_page_has_no_next_and_may_be_empty() -> None:
    page = parse_interview_page({"status": "success", "data": {"next": None, "results": []}})
    assert page == Page("/ats/interviews", results=(), next=None)


def test_results_keep_upstream_order() -> None:
    body = example_body()
    first = interview_of(body)
    body["data"]["results"] = [{**first, "id": f"id-{i}"} for i in (3, 1, 2)]
    assert [i["id"] for i in parse_interview_page(body).results] == ["id-3", "id-1", "id-2"]


# Every object of the body, as a path of keys (and list indexes) from the top.
OBJECT_PATHS: list[tuple[Any, ...]] = [
    (),
    ("data",),
    ("data", "results", 0),
    ("data", "results", 0, "location"),
    ("data", "results", 0, "users", 0),
    ("data", "results", 0, "application"),
    ("data", "results", 0, "application", "candidate"),
    ("data", "results", 0, "application", "candidate", "email_addresses", 0),
    ("data", "results", 0, "application", "job"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


def at(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


@settings(max_examples=150)
@given(
    path=st.sampled_from(OBJECT_PATHS),
    name=st.text(min_size=1, max_size=12).map(lambda s: "x_" + s),
    value=json_values,
)
def test_an_extra_field_anywhere_is_ignored(path: tuple[Any, ...], name: str, value: Any) -> None:
    body = example_body()
    at(body, path)[name] = value
    assert parse_interview_page(body).results == (EXPECTED_INTERVIEW,)


def test_unknown_outcome_is_none_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    outcome = f"WITHDRAWN_{uuid.uuid4().hex}"  # never seen before by this process
    body = example_body()
    interview_of(body)["application"]["outcome"] = outcome
    with caplog.at_level(logging.WARNING, logger="gateway.kombo.parsing"):
        first = parse_interview_page(body)
        second = parse_interview_page(body)
    for page in (first, second):
        application = page.results[0]["application"]
        assert application is not None
        assert application["outcome"] is None
        assert application["id"] == "H77fDF8uvEzGNPRubiz5DvQ7"
    mentions = [r for r in caplog.records if outcome in r.getMessage()]
    assert len(mentions) == 1
    assert mentions[0].levelno == logging.WARNING


def test_unknown_values_logged_are_bounded_then_one_line_says_so(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 8, finding 9: 2 x 40,000 distinct values took RSS 61 -> 127 MB and ~13 MB of log.
    unknown = parsing._unknown["ApplicationOutcome"]  # the one the compiled parser notes to
    monkeypatch.setattr(unknown, "limit", 10)
    monkeypatch.setattr(unknown, "seen", set())
    monkeypatch.setattr(unknown, "unlogged", 0)
    body = example_body()
    template = interview_of(body)
    body["data"]["results"] = [
        {**template, "application": {**template["application"], "outcome": f"NEW_{n}"}}
        for n in range(1000)
    ]
    with caplog.at_level(logging.WARNING, logger="gateway.kombo.parsing"):
        page = parse_interview_page(body)
        parse_interview_page(body)
    assert all(i["application"] and i["application"]["outcome"] is None for i in page.results)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:10] == [
        f"unknown ApplicationOutcome value 'NEW_{n}' from Kombo; exposed as null" for n in range(10)
    ]
    assert len(lines) == 11 and "further ones are exposed as null without being logged" in lines[10]
    assert len(unknown.seen) == 10


def test_an_unknown_value_is_logged_and_kept_by_its_first_characters(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = parsing._unknown["ApplicationOutcome"]
    monkeypatch.setattr(unknown, "seen", set())
    monkeypatch.setattr(unknown, "unlogged", 0)
    body = example_body()
    interview_of(body)["application"]["outcome"] = "X" * 1_000_000
    with caplog.at_level(logging.WARNING, logger="gateway.kombo.parsing"):
        parse_interview_page(body)
    [line] = [r.getMessage() for r in caplog.records]
    assert len(line) < 300
    assert max(len(key) for key in unknown.seen) == parsing.MAX_LOGGED_VALUE_CHARS + 3


@pytest.mark.parametrize("length", [1, 100, parsing.MAX_UPSTREAM_CURSOR_CHARS])
def test_a_next_cursor_up_to_the_bound_is_kept(length: int) -> None:
    body = example_body()
    body["data"]["next"] = "c" * length
    assert parse_interview_page(body).next == "c" * length


@pytest.mark.parametrize("length", [parsing.MAX_UPSTREAM_CURSOR_CHARS + 1, 48 * 1024])
def test_a_next_cursor_past_the_bound_is_malformed(length: int) -> None:
    body = example_body()
    body["data"]["next"] = "c" * length
    with pytest.raises(KomboMalformedResponse, match=r"body\.data\.next"):
        parse_interview_page(body)


@pytest.mark.parametrize("outcome", ["PENDING", "HIRED", "DECLINED", None])
def test_known_outcomes(outcome: str | None) -> None:
    body = example_body()
    interview_of(body)["application"]["outcome"] = outcome
    application = parse_interview_page(body).results[0]["application"]
    assert application is not None
    assert application["outcome"] == outcome


@pytest.mark.parametrize(
    ("path", "key", "check"),
    [
        ((), "location", lambda i: i["location"] is None),
        ((), "application", lambda i: i["application"] is None),
        (("application",), "candidate", lambda i: i["application"]["candidate"] is None),
        (("application",), "job", lambda i: i["application"]["job"] is None),
        ((), "users", lambda i: i["users"] == ()),
        (
            ("application", "candidate"),
            "email_addresses",
            # nullable where an interview inlines the candidate, as the spec says
            lambda i: i["application"]["candidate"]["email_addresses"] is None,
        ),
    ],
    ids=["location", "application", "candidate", "job", "users", "email_addresses"],
)
def test_null_nested_objects(path: tuple[str, ...], key: str, check: Any) -> None:
    body = example_body()
    at(interview_of(body), path)[key] = None
    interview = parse_interview_page(body).results[0]
    assert check(interview)


def test_every_nullable_field_null() -> None:
    body = {
        "status": "success",
        "data": {
            "next": None,
            "results": [
                {
                    "id": "I1",
                    "remote_id": None,
                    "title": None,
                    "starting_at": None,
                    "ending_at": None,
                    "location": None,
                    "video_conferencing_url": None,
                    "application_id": None,
                    "stage_id": None,
                    "canceled": None,
                    "remote_created_at": None,
                    "remote_updated_at": None,
                    "remote_data": None,
                    "changed_at": "2022-08-07T14:01:29.196Z",
                    "remote_deleted_at": None,
                    "users": [
                        {
                            "id": "U1",
                            "remote_id": None,
                            "first_name": None,
                            "last_name": None,
                            "email": None,
                        }
                    ],
                    "application": {
                        "id": "A1",
                        "remote_id": None,
                        "outcome": None,
                        "rejection_reason_name": None,
                        "candidate": None,
                        "job": None,
                    },
                }
            ],
        },
    }
    interview = parse_interview_page(body).results[0]
    assert interview == {
        "id": "I1",
        "remote_id": None,
        "title": None,
        "starting_at": None,
        "ending_at": None,
        "location": None,
        "video_conferencing_url": None,
        "application_id": None,
        "stage_id": None,
        "canceled": None,
        "remote_created_at": None,
        "remote_updated_at": None,
        "remote_data": None,
        "changed_at": MS_196,
        "remote_deleted_at": None,
        "users": (
            {"id": "U1", "remote_id": None, "first_name": None, "last_name": None, "email": None},
        ),
        "application": {
            "id": "A1",
            "remote_id": None,
            "outcome": None,
            "rejection_reason_name": None,
            "candidate": None,
            "job": None,
        },
    }


def test_remote_data_object_and_deleted_at_are_kept() -> None:
    body = example_body()
    remote = {"/interviews/32": {"id": 32, "nested": [1, {"a": None}]}}
    interview_of(body)["remote_data"] = remote
    interview_of(body)["remote_deleted_at"] = "2024-01-02T03:04:05.678Z"
    interview = parse_interview_page(body).results[0]
    assert interview["remote_data"] == remote
    assert interview["remote_deleted_at"] == "2024-01-02T03:04:05.678Z"
    assert interview["remote_deleted_at"].__class__ is Instant


def test_numbers_where_strings_are_promised_are_kept_as_text() -> None:
    body = example_body()
    interview_of(body)["remote_id"] = 32
    interview_of(body)["location"]["zip_code"] = 12435
    interview = parse_interview_page(body).results[0]
    assert interview["remote_id"] == "32"
    assert interview["location"] is not None
    assert interview["location"]["zip_code"] == "12435"


def test_malformed_optional_timestamp_becomes_none() -> None:
    body = example_body()
    interview_of(body)["starting_at"] = "next tuesday"
    interview_of(body)["ending_at"] = 1687789800
    interview = parse_interview_page(body).results[0]
    assert interview["starting_at"] is None
    assert interview["ending_at"] is None


def inplace(edit: Any) -> Any:
    """A malformation made by editing the example body where it is."""

    def malformed(body: dict[str, Any]) -> Any:
        edit(body)
        return body

    return malformed


MALFORMED = {
    "body is a list": lambda b: [b],
    "body is a string": lambda b: "success",
    "body is null": lambda b: None,
    "body is a number": lambda b: 200,
    "status is error": inplace(lambda b: b.update(status="error")),
    "status missing": inplace(lambda b: b.pop("status")),
    "data missing": inplace(lambda b: b.pop("data")),
    "data is a list": inplace(lambda b: b.update(data=[])),
    "results missing": inplace(lambda b: b["data"].pop("results")),
    "results is an object": inplace(lambda b: b["data"].update(results={"0": {}})),
    "results is null": inplace(lambda b: b["data"].update(results=None)),
    "results is a string": inplace(lambda b: b["data"].update(results="[]")),
    "next is a number": inplace(lambda b: b["data"].update(next=12)),
    "next is empty": inplace(lambda b: b["data"].update(next="")),
    "interview is a string": inplace(
        lambda b: b["data"].update(results=["26vafvWSRmbhNcxJYqjCzuJg"])
    ),
    "interview without id": inplace(lambda b: interview_of(b).pop("id")),
    "interview id is a list": inplace(lambda b: interview_of(b).update(id=["x"])),
    "interview id is empty": inplace(lambda b: interview_of(b).update(id="")),
    "changed_at missing": inplace(lambda b: interview_of(b).pop("changed_at")),
    "changed_at null": inplace(lambda b: interview_of(b).update(changed_at=None)),
    "changed_at not a date": inplace(lambda b: interview_of(b).update(changed_at="yesterday")),
    "users is an object": inplace(lambda b: interview_of(b).update(users={"id": "U"})),
    "user is a string": inplace(lambda b: interview_of(b).update(users=["U1"])),
    "user without id": inplace(lambda b: interview_of(b)["users"][0].pop("id")),
    "user id null": inplace(lambda b: interview_of(b)["users"][0].update(id=None)),
    "location is a string": inplace(lambda b: interview_of(b).update(location="Berlin")),
    "application is a list": inplace(lambda b: interview_of(b).update(application=[])),
    "application without id": inplace(lambda b: interview_of(b)["application"].pop("id")),
    "candidate without id": inplace(
        lambda b: interview_of(b)["application"]["candidate"].pop("id")
    ),
    "email_addresses is a string": inplace(
        lambda b: interview_of(b)["application"]["candidate"].update(email_addresses="a@b.c")
    ),
    "job without id": inplace(lambda b: interview_of(b)["application"]["job"].pop("id")),
}


@pytest.mark.parametrize("mutate", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_body_raises_kombo_malformed_response(mutate: Any) -> None:
    body = mutate(example_body())
    assert body != SPEC_EXAMPLE  # the malformation took effect
    with pytest.raises(KomboMalformedResponse):
        parse_interview_page(body)


def test_malformed_response_is_an_unavailable_upstream() -> None:
    assert issubclass(KomboMalformedResponse, KomboUnavailable)


def test_whole_and_partial_records_have_their_classes() -> None:
    interview = parse_interview_page(example_body()).results[0]
    assert type(interview) is RECORDS.whole["Interview"]
    assert not interview.partial and interview.model == "Interview"
    application = interview["application"]
    assert type(application) is RECORDS.partial["Application"]
    assert application.partial and application.model == "Application"
    assert application.type_name == "Application"
    # Only what the interview inlines is there: the rest is completed from /ats/applications.
    inlined = {"id", "remote_id", "outcome", "rejection_reason_name", "candidate", "job"}
    assert set(application) == inlined
    assert type(application["job"]) is RECORDS.partial["Job"]
    assert type(interview["users"][0]) is RECORDS.partial["User"]
    assert type(interview["location"]) is RECORDS.whole["Location"]
    assert not interview["location"].partial and interview["location"].model is None
    assert RECORDS.classes_of("Application") == (
        RECORDS.whole["Application"],
        RECORDS.partial["Application"],
    )
    assert RECORDS.classes_of("Location") == (RECORDS.whole["Location"],)


# --- every model, from the spec's own examples --------------------------------------------------


def same(parsed: Any, raw: Any, where: str) -> None:
    """``parsed`` is ``raw`` read as the spec says: objects as records holding every key the
    example has, lists as tuples, date-times as the contract's answer for the same instant."""
    if isinstance(raw, dict | list) and not isinstance(parsed, Record | tuple):
        assert parsed == raw, where  # JSON kept as it is (custom_fields, remote_data)
    elif isinstance(raw, dict):
        assert set(raw) <= set(parsed), f"{where}: {set(raw) - set(parsed)} dropped"
        for key, value in raw.items():
            same(parsed[key], value, f"{where}.{key}")
    elif isinstance(raw, list):
        assert isinstance(parsed, tuple) and len(parsed) == len(raw), where
        for index, (p, r) in enumerate(zip(parsed, raw, strict=True)):
            same(p, r, f"{where}[{index}]")
    elif isinstance(parsed, Instant):
        assert isinstance(raw, str), where
        instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        assert parsed == format_instant(instant), where
    else:
        assert parsed == raw, where


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_every_model_parses_its_spec_examples(model: Model) -> None:
    examples = spec_examples(model)
    assert examples, f"the spec has no example for {model.path}"
    for body in examples:
        page = parse_page(model, copy.deepcopy(body))
        assert page.path == model.path
        assert page.next == body["data"]["next"]
        raw_results = body["data"]["results"]
        assert len(page.results) == len(raw_results) > 0
        for index, (record, raw) in enumerate(zip(page.results, raw_results, strict=True)):
            assert type(record) is RECORDS.whole[model.name]
            assert not record.partial
            same(record, raw, f"{model.name}[{index}]")
            # A record holds every field of its endpoint (None where the example lacks it).
            own = {f.name for f in model.shape.fields if not f.inline_only}
            assert set(record) == own
            assert parse_record(model, copy.deepcopy(raw)) == record


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_a_record_without_id_is_malformed(model: Model) -> None:
    raw = copy.deepcopy(spec_examples(model)[0]["data"]["results"][0])
    without = {k: v for k, v in raw.items() if k != "id"}
    for broken in (without, {**raw, "id": None}, {**raw, "id": ""}, {**raw, "id": ["x"]}):
        with pytest.raises(KomboMalformedResponse, match="id"):
            parse_record(model, broken)


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_a_record_without_changed_at_is_malformed(model: Model) -> None:
    assert not model.shape.field("changed_at").nullable
    raw = copy.deepcopy(spec_examples(model)[0]["data"]["results"][0])
    without = {k: v for k, v in raw.items() if k != "changed_at"}
    for broken in (without, {**raw, "changed_at": None}, {**raw, "changed_at": "yesterday"}):
        with pytest.raises(KomboMalformedResponse, match="changed_at"):
            parse_record(model, broken)


def test_an_inline_record_without_id_gets_it_from_the_enclosing_records_field() -> None:
    offers = CATALOG["Offer"]
    inline = offers.shape.field("application").shape
    assert isinstance(inline, ObjectShape) and "id" not in inline.field_names
    raw = copy.deepcopy(spec_examples(offers)[0]["data"]["results"][0])
    assert "id" not in raw["application"]
    application = parse_record(offers, raw)["application"]
    assert type(application) is RECORDS.partial["Application"]
    assert application["id"] == raw["application_id"]
    assert set(application) == {"id"} | set(inline.field_names)
    # Without the enclosing id the inline record cannot be completed or told apart: null.
    assert parse_record(offers, {**raw, "application_id": None})["application"] is None


@pytest.mark.parametrize("model", list(CATALOG), ids=lambda m: m.name)
def test_an_unknown_enum_value_of_every_model_is_none_and_logged_once(
    model: Model, caplog: pytest.LogCaptureFixture
) -> None:
    enums = [f for f in model.shape.fields if isinstance(f.shape, EnumShape)]
    raw = copy.deepcopy(spec_examples(model)[0]["data"]["results"][0])
    for f in enums:
        value = f"NEW_{uuid.uuid4().hex}"  # never seen before by this process
        with caplog.at_level(logging.WARNING, logger="gateway.kombo.parsing"):
            first = parse_record(model, {**raw, f.name: value})
            second = parse_record(model, {**raw, f.name: value})
        assert first[f.name] is None and second[f.name] is None
        assert first["id"] == raw["id"]
        mentions = [r for r in caplog.records if value in r.getMessage()]
        assert len(mentions) == 1, f.name
        assert mentions[0].levelno == logging.WARNING
        # A documented value is kept as Kombo spells it.
        assert isinstance(f.shape, EnumShape)
        known = f.shape.values[0]
        assert parse_record(model, {**raw, f.name: known})[f.name] == known


def test_a_numeric_id_is_kept_as_text() -> None:
    body = example_body()
    interview_of(body)["id"] = 7
    assert parse_interview_page(body).results[0]["id"] == "7"


# -- the structure checks' generated code against a plain reading of the same rules -------------

WRONG_STRUCTURE = (None, 5, "", "text", [], {}, [None], [5], {"id": 3}, {"id": ""})


def checked_as_written(shape: ObjectShape, inline: bool, value: Any) -> bool:
    """The structure check's rules (:func:`parsing._structure_checker`), read one by one."""
    if value.__class__ is not dict:
        return False
    for f in parsing.fields_read(shape, inline):
        v = value.get(f.name)
        item = f.shape.item if isinstance(f.shape, ListShape) else None
        if f.name == "id" and not f.nullable:
            if v.__class__ is not str or not v:
                return False
        elif f.name == "changed_at" and not f.nullable:
            if v.__class__ is not str or normalize(v) is None:
                return False
        elif isinstance(f.shape, ObjectShape):
            if v is not None and not checked_as_written(f.shape, True, v):
                return False
        elif isinstance(f.shape, UnionShape):
            if v is not None and not parsing._union_checker(f.shape)(v):
                return False
        elif isinstance(f.shape, EnumShape):
            if v is not None and (v.__class__ is not str or v not in f.shape.values):
                return False
        elif isinstance(f.shape, ListShape) and v is not None:
            if v.__class__ is not list:
                return False
            for x in v:
                if isinstance(item, ObjectShape) and x is not None:
                    if not checked_as_written(item, True, x):
                        return False
                elif (isinstance(item, UnionShape) and not parsing._union_checker(item)(x)) or (
                    isinstance(item, EnumShape) and (x.__class__ is not str or x not in item.values)
                ):
                    return False
    return True


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key and index of a decoded JSON value, nested ones included."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*path, key))
        if isinstance(child, dict | list):
            found += places(child, (*path, key))
    return found


@settings(max_examples=300)
@given(data=st.data(), model=st.sampled_from(tuple(CATALOG)))
def test_a_structure_check_answers_as_its_rules_read_one_by_one(
    data: st.DataObject, model: Model
) -> None:
    raw = data.draw(raw_object(model.shape, 0))
    for _ in range(data.draw(st.integers(0, 3))):
        where = places(raw)
        if where:
            *holder, key = data.draw(st.sampled_from(where))
            target = raw
            for step in holder:
                target = target[step]
            target[key] = copy.deepcopy(data.draw(st.sampled_from(WRONG_STRUCTURE)))
    check = parsing._structure_checker(model.shape, inline=False)
    assert check(raw) is checked_as_written(model.shape, False, raw)
