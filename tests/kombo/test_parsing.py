"""Kombo's JSON read into typed payloads: the spec's example, tolerance, and malformed bodies."""

from __future__ import annotations

import copy
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.kombo import parsing
from gateway.kombo.errors import KomboMalformedResponse, KomboUnavailable
from gateway.kombo.models import (
    Application,
    ApplicationOutcome,
    Candidate,
    EmailAddress,
    Interview,
    InterviewPage,
    Job,
    Location,
    User,
)
from gateway.kombo.parsing import parse_interview_page
from tests.support.kombo_api import SPEC_EXAMPLE

MS_196 = datetime(2022, 8, 7, 14, 1, 29, 196000, tzinfo=UTC)

EXPECTED_INTERVIEW = Interview(
    id="26vafvWSRmbhNcxJYqjCzuJg",
    remote_id="32",
    title="Interview with John Doe",
    starting_at=datetime(2023, 6, 26, 14, 30, tzinfo=UTC),
    ending_at=datetime(2023, 6, 26, 15, 30, tzinfo=UTC),
    location=Location(
        city="Berlin",
        country="DE",
        raw="Berlin, Germany",
        state="Berlin",
        street_1="Lohmühlenstraße 65",
        street_2=None,
        zip_code="12435",
    ),
    video_conferencing_url="https://meet.example.com/interview-abc123",
    application_id="H77fDF8uvEzGNPRubiz5DvQ7",
    stage_id="H5daSm8e85Dmvmne3wLeCPhX",
    canceled=False,
    remote_created_at=MS_196,
    remote_updated_at=MS_196,
    remote_data=None,
    changed_at=MS_196,
    remote_deleted_at=None,
    users=(
        User(
            id="26vafvWSRmbhNcxJYqjCzuJg",
            remote_id="32",
            first_name="John",
            last_name="Doe",
            email="john.doe@kombo.dev",
        ),
    ),
    application=Application(
        id="H77fDF8uvEzGNPRubiz5DvQ7",
        remote_id="32",
        outcome=ApplicationOutcome.HIRED,
        rejection_reason_name=None,
        candidate=Candidate(
            id="26vafvWSRmbhNcxJYqjCzuJg",
            remote_id="32",
            first_name="John",
            last_name="Doe",
            email_addresses=(EmailAddress(email_address="john.doe@example.com", type="PRIVATE"),),
        ),
        job=Job(id="H5daSm8e85Dmvmne3wLeCPhX", remote_id="32", name="Backend Engineer"),
    ),
)


def example_body() -> dict[str, Any]:
    return copy.deepcopy(SPEC_EXAMPLE)


def interview_of(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = body["data"]["results"][0]
    return result


def test_spec_example_parses_into_typed_objects() -> None:
    page = parse_interview_page(example_body())
    assert isinstance(page, InterviewPage)
    assert page.next == SPEC_EXAMPLE["data"]["next"]
    assert page.results == (EXPECTED_INTERVIEW,)
    interview = page.results[0]
    assert interview.changed_at.tzinfo is not None
    assert interview.changed_at.utcoffset() == UTC.utcoffset(None)
    assert interview.application is not None
    assert interview.application.outcome is ApplicationOutcome.HIRED


def test_last_page_has_no_next_and_may_be_empty() -> None:
    page = parse_interview_page({"status": "success", "data": {"next": None, "results": []}})
    assert page == InterviewPage(results=(), next=None)


def test_results_keep_upstream_order() -> None:
    body = example_body()
    first = interview_of(body)
    body["data"]["results"] = [{**first, "id": f"id-{i}"} for i in (3, 1, 2)]
    assert [i.id for i in parse_interview_page(body).results] == ["id-3", "id-1", "id-2"]


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
        application = page.results[0].application
        assert application is not None
        assert application.outcome is None
        assert application.id == "H77fDF8uvEzGNPRubiz5DvQ7"
    mentions = [r for r in caplog.records if outcome in r.getMessage()]
    assert len(mentions) == 1
    assert mentions[0].levelno == logging.WARNING


def test_unknown_values_logged_are_bounded_then_one_line_says_so(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 8, finding 9: 2 x 40,000 distinct values took RSS 61 -> 127 MB and ~13 MB of log.
    unknown = parsing._UnknownValues("application outcome", limit=10)
    monkeypatch.setattr(parsing, "_unknown_outcomes", unknown)
    body = example_body()
    template = interview_of(body)
    body["data"]["results"] = [
        {**template, "application": {**template["application"], "outcome": f"NEW_{n}"}}
        for n in range(1000)
    ]
    with caplog.at_level(logging.WARNING, logger="gateway.kombo.parsing"):
        page = parse_interview_page(body)
        parse_interview_page(body)
    assert all(i.application and i.application.outcome is None for i in page.results)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:10] == [
        f"unknown application outcome 'NEW_{n}' from Kombo; exposed as null" for n in range(10)
    ]
    assert len(lines) == 11 and "further ones are exposed as null without being logged" in lines[10]
    assert len(unknown.seen) == 10


def test_an_unknown_value_is_logged_and_kept_by_its_first_characters(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = parsing._UnknownValues("application outcome")
    monkeypatch.setattr(parsing, "_unknown_outcomes", unknown)
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
    application = parse_interview_page(body).results[0].application
    assert application is not None
    assert application.outcome == (None if outcome is None else ApplicationOutcome(outcome))


@pytest.mark.parametrize(
    ("path", "key", "check"),
    [
        ((), "location", lambda i: i.location is None),
        ((), "application", lambda i: i.application is None),
        (("application",), "candidate", lambda i: i.application.candidate is None),
        (("application",), "job", lambda i: i.application.job is None),
        ((), "users", lambda i: i.users == ()),
        (
            ("application", "candidate"),
            "email_addresses",
            lambda i: i.application.candidate.email_addresses == (),
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
    assert interview == Interview(
        id="I1",
        remote_id=None,
        title=None,
        starting_at=None,
        ending_at=None,
        location=None,
        video_conferencing_url=None,
        application_id=None,
        stage_id=None,
        canceled=None,
        remote_created_at=None,
        remote_updated_at=None,
        remote_data=None,
        changed_at=MS_196,
        remote_deleted_at=None,
        users=(User(id="U1", remote_id=None, first_name=None, last_name=None, email=None),),
        application=Application(
            id="A1",
            remote_id=None,
            outcome=None,
            rejection_reason_name=None,
            candidate=None,
            job=None,
        ),
    )


def test_remote_data_object_and_deleted_at_are_kept() -> None:
    body = example_body()
    remote = {"/interviews/32": {"id": 32, "nested": [1, {"a": None}]}}
    interview_of(body)["remote_data"] = remote
    interview_of(body)["remote_deleted_at"] = "2024-01-02T03:04:05.678Z"
    interview = parse_interview_page(body).results[0]
    assert interview.remote_data == remote
    assert interview.remote_deleted_at == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def test_numbers_where_strings_are_promised_are_kept_as_text() -> None:
    body = example_body()
    interview_of(body)["remote_id"] = 32
    interview_of(body)["location"]["zip_code"] = 12435
    interview = parse_interview_page(body).results[0]
    assert interview.remote_id == "32"
    assert interview.location is not None
    assert interview.location.zip_code == "12435"


def test_malformed_optional_timestamp_becomes_none() -> None:
    body = example_body()
    interview_of(body)["starting_at"] = "next tuesday"
    interview_of(body)["ending_at"] = 1687789800
    interview = parse_interview_page(body).results[0]
    assert interview.starting_at is None
    assert interview.ending_at is None


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
    "interview id is a number": inplace(lambda b: interview_of(b).update(id=7)),
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
