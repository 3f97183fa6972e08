"""The sandbox's generated data: shaped like the spec, deterministic, and full of edge cases."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.sandbox import (
    INTEGRATIONS,
    MODEL_NOT_AVAILABLE_INTEGRATION,
    SandboxInterview,
    interviews_for,
)

DEFAULT = INTEGRATIONS[0]
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
KOMBO_ID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{24}")
# The spec's email pattern, with JavaScript's ASCII-only \w.
EMAIL = re.compile(r"(?!\.)(?!.*\.\.)([\w'+-.]*)[\w+-]@([\da-z][\da-z-]*\.)+[a-z]{2,}", re.ASCII)

INTERVIEW_KEYS = (
    "id", "remote_id", "title", "starting_at", "ending_at", "video_conferencing_url",
    "application_id", "stage_id", "canceled", "remote_created_at", "remote_updated_at",
    "remote_data", "changed_at", "remote_deleted_at", "users", "application",
)  # fmt: skip
LOCATION_KEYS = ("city", "country", "raw", "state", "street_1", "street_2", "zip_code")
TIMESTAMP_KEYS = ("starting_at", "ending_at", "remote_created_at", "remote_updated_at")


def payloads(integration_id: str = DEFAULT) -> list[dict[str, Any]]:
    return [i.payload for i in interviews_for(integration_id)]


def users(integration_id: str = DEFAULT) -> Iterator[dict[str, Any]]:
    for payload in payloads(integration_id):
        yield from payload["users"]


def applications(integration_id: str = DEFAULT) -> Iterator[dict[str, Any]]:
    return (p["application"] for p in payloads(integration_id) if p["application"])


def candidates(integration_id: str = DEFAULT) -> Iterator[dict[str, Any]]:
    return (a["candidate"] for a in applications(integration_id) if a["candidate"])


def jobs(integration_id: str = DEFAULT) -> Iterator[dict[str, Any]]:
    return (a["job"] for a in applications(integration_id) if a["job"])


def email_items(integration_id: str = DEFAULT) -> Iterator[dict[str, Any]]:
    for candidate in candidates(integration_id):
        yield from candidate.get("email_addresses") or []


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def test_integrations_are_named_and_the_first_is_the_default() -> None:
    assert INTEGRATIONS == ("sandbox:acme-corp", "greenhouse:globex", "workday:initech")
    assert MODEL_NOT_AVAILABLE_INTEGRATION not in INTEGRATIONS


def test_each_integration_holds_its_number_of_interviews() -> None:
    assert [len(interviews_for(i)) for i in INTEGRATIONS] == [260, 120, 40]


def test_same_call_twice_gives_equal_data_in_a_fresh_list() -> None:
    first, second = interviews_for(DEFAULT), interviews_for(DEFAULT)
    assert first == second
    assert first is not second


@pytest.mark.parametrize("integration_id", ["nope:unknown", MODEL_NOT_AVAILABLE_INTEGRATION])
def test_an_integration_without_interviews_raises_key_error(integration_id: str) -> None:
    with pytest.raises(KeyError):
        interviews_for(integration_id)


@pytest.mark.parametrize("integration_id", INTEGRATIONS)
def test_every_payload_has_the_spec_shape(integration_id: str) -> None:
    for interview in interviews_for(integration_id):
        assert isinstance(interview, SandboxInterview)
        payload = interview.payload
        assert set(INTERVIEW_KEYS) <= payload.keys() <= {*INTERVIEW_KEYS, "location"}
        if payload.get("location") is not None:
            assert tuple(payload["location"]) == LOCATION_KEYS
        assert isinstance(payload["users"], list)
        for user in payload["users"]:
            assert {"id", "remote_id", "first_name", "last_name"} <= user.keys()
        application = payload["application"]
        if application is not None:
            assert tuple(application) == (
                "id", "remote_id", "outcome", "rejection_reason_name", "candidate", "job",
            )  # fmt: skip
            assert payload["application_id"] == application["id"]
            if application["candidate"] is not None:
                assert isinstance(application["candidate"]["remote_id"], str)
                for item in application["candidate"].get("email_addresses") or []:
                    assert "type" in item
            if application["job"] is not None:
                assert tuple(application["job"]) == ("id", "remote_id", "name")
                assert isinstance(application["job"]["remote_id"], str)
        assert payload["canceled"] in (True, False, None)
        assert payload["remote_data"] is None or isinstance(payload["remote_data"], dict)


@pytest.mark.parametrize("integration_id", INTEGRATIONS)
def test_timestamps_use_kombos_format_and_updated_at_is_never_before_changed_at(
    integration_id: str,
) -> None:
    for interview in interviews_for(integration_id):
        payload = interview.payload
        assert TIMESTAMP.fullmatch(payload["changed_at"])
        assert TIMESTAMP.fullmatch(interview.updated_at)
        assert interview.updated_at >= payload["changed_at"]
        for key in (*TIMESTAMP_KEYS, "remote_deleted_at"):
            assert payload[key] is None or TIMESTAMP.fullmatch(payload[key])


def test_updated_at_is_later_than_changed_at_for_some_and_changed_at_is_shared() -> None:
    interviews = interviews_for(DEFAULT)
    assert any(i.updated_at > i.payload["changed_at"] for i in interviews)
    assert any(i.updated_at == i.payload["changed_at"] for i in interviews)
    assert Counter(i.payload["changed_at"] for i in interviews).most_common(1)[0][1] > 10


def test_every_nullable_field_of_the_spec_is_null_somewhere() -> None:
    interviews = payloads()
    for key in ("remote_id", "title", *TIMESTAMP_KEYS, "video_conferencing_url", "location"):
        assert any(p.get(key, "absent") is None for p in interviews), key
    for key in ("application_id", "stage_id", "canceled", "remote_data", "remote_deleted_at"):
        assert any(p[key] is None for p in interviews), key
    assert any(p["application"] is None for p in interviews)
    locations = [p["location"] for p in interviews if p.get("location")]
    for key in LOCATION_KEYS:
        assert any(loc[key] is None for loc in locations), f"location.{key}"
    for key in ("remote_id", "first_name", "last_name", "email"):
        assert any(u.get(key, "absent") is None for u in users()), f"users[].{key}"
    for key in ("remote_id", "outcome", "rejection_reason_name", "candidate", "job"):
        assert any(a[key] is None for a in applications()), f"application.{key}"
    for key in ("first_name", "last_name", "email_addresses"):
        assert any(c.get(key, "absent") is None for c in candidates()), f"candidate.{key}"
    for key in ("email_address", "type"):
        assert any(e.get(key, "absent") is None for e in email_items()), f"email.{key}"
    assert any(j["name"] is None for j in jobs())


def test_optional_keys_are_absent_somewhere() -> None:
    assert any("location" not in p for p in payloads())
    assert any("email" not in u for u in users())
    assert any("email_addresses" not in c for c in candidates())
    assert any("email_address" not in e for e in email_items())
    assert any(c.get("email_addresses") == [] for c in candidates())


def test_ids_are_kombo_style_and_unique_within_their_type() -> None:
    for integration_id in INTEGRATIONS:
        interview_ids = [p["id"] for p in payloads(integration_id)]
        assert len(set(interview_ids)) == len(interview_ids)
        for kind in (users, applications, candidates, jobs):
            by_id: dict[str, dict[str, Any]] = {}
            for obj in kind(integration_id):
                assert KOMBO_ID.fullmatch(obj["id"])
                # One id, one object: the same entity looks the same in every interview.
                assert by_id.setdefault(obj["id"], obj) == obj
        assert all(KOMBO_ID.fullmatch(i) for i in interview_ids)


def test_some_ids_repeat_across_types() -> None:
    user_ids = {u["id"] for u in users()}
    assert user_ids & {c["id"] for c in candidates()}
    assert user_ids & {p["id"] for p in payloads()}
    assert user_ids & {j["id"] for j in jobs()}


def test_ids_differ_between_integrations() -> None:
    first, second = ({p["id"] for p in payloads(i)} for i in INTEGRATIONS[:2])
    assert not first & second


def test_unicode_names_titles_and_emoji_are_present() -> None:
    text = "\n".join(s for p in payloads() for s in all_strings(p))
    for expected in ("Zoë", "Łukasz", "山田", "🌈", "🎉", "Ødegård", '"Final"'):
        assert expected in text, expected


def test_some_interviews_are_deleted_and_most_are_not() -> None:
    for integration_id in INTEGRATIONS:
        deleted = [p for p in payloads(integration_id) if p["remote_deleted_at"] is not None]
        assert 3 <= len(deleted) < len(payloads(integration_id)) / 4


def test_remote_data_is_keyed_by_endpoint_path() -> None:
    remote_data = [p["remote_data"] for p in payloads() if p["remote_data"] is not None]
    assert remote_data
    assert all(key.startswith("/interviews") for data in remote_data for key in data)


def test_outcomes_are_the_spec_enum_and_null() -> None:
    assert {a["outcome"] for a in applications()} == {"PENDING", "HIRED", "DECLINED", None}


def test_emails_match_the_spec_pattern() -> None:
    addresses = [u["email"] for u in users() if u.get("email")]
    addresses += [e["email_address"] for e in email_items() if e.get("email_address")]
    assert addresses
    for address in addresses:
        assert EMAIL.fullmatch(address), address


def test_jobs_applications_and_interviewers_have_realistic_counts() -> None:
    assert len({j["id"] for j in jobs()}) >= 25
    per_application = Counter(a["id"] for a in applications())
    assert max(per_application.values()) >= 3
    interviewer_counts = {len(p["users"]) for p in payloads()}
    assert interviewer_counts == {0, 1, 2, 3, 4}


def test_order_is_neither_by_id_nor_by_time() -> None:
    interviews = payloads()
    assert [p["id"] for p in interviews] != sorted(p["id"] for p in interviews)
    assert [p["changed_at"] for p in interviews] != sorted(p["changed_at"] for p in interviews)
