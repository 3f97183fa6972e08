"""Kombo's data-changed webhook read and verified (gateway.live.webhook): every accepted signature
encoding, nothing else; the schema check; the model names of the spec."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gateway.live.webhook import (
    MAX_BODY_BYTES,
    MODEL_NAMES,
    BodyTooLarge,
    DataChanged,
    Ignored,
    MalformedWebhook,
    WebhookError,
    decode_signature,
    parse,
    sign,
    signature_matches,
)

SPEC = Path(__file__).resolve().parents[2] / "gateway/kombo/spec/kombo-ats-read.openapi.yaml"

secrets_ = st.text(min_size=1, max_size=64)
bodies = st.binary(max_size=2048)


def encodings(mac: bytes) -> list[str]:
    """Every form Kombo's signature is accepted in."""
    std = base64.b64encode(mac).decode()
    url = base64.urlsafe_b64encode(mac).decode()
    return [
        mac.hex(),
        mac.hex().upper(),
        std,
        std.rstrip("="),
        url,
        url.rstrip("="),
    ]


@given(secret=secrets_, body=bodies, prefix=st.sampled_from(["", "sha256=", "SHA256=", " "]))
def test_every_accepted_encoding_of_the_right_mac_verifies(
    secret: str, body: bytes, prefix: str
) -> None:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    assert sign(secret, body) == mac
    for encoded in encodings(mac):
        assert signature_matches(secret, body, prefix + encoded + " "), encoded
        assert decode_signature(prefix + encoded) == mac


@given(secret=secrets_, body=bodies, other=st.binary(min_size=32, max_size=32))
def test_another_mac_in_any_encoding_fails(secret: str, body: bytes, other: bytes) -> None:
    if other == sign(secret, body):
        return
    for encoded in encodings(other):
        assert not signature_matches(secret, body, encoded)


@given(secret=secrets_, body=bodies, flip=st.integers(min_value=0))
def test_a_changed_body_or_secret_fails(secret: str, body: bytes, flip: int) -> None:
    signature = sign(secret, body).hex()
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        assert not signature_matches(secret, changed, signature)
    assert not signature_matches(secret + "x", body, signature)
    assert not signature_matches(secret, body + b" ", signature)


@given(secret=secrets_, body=bodies, header=st.text(max_size=100))
def test_any_header_text_is_refused_or_verified_without_raising(
    secret: str, body: bytes, header: str
) -> None:
    assert signature_matches(secret, body, header) is (
        decode_signature(header) == sign(secret, body)
    )


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "deadbeef",
        "g" * 64,  # not hex
        "a" * 63,
        "a" * 65,
        "a" * 62 + " a",  # bytes.fromhex would skip the space
        "+" * 21 + "-" * 22,  # both base64 alphabets at once
        "A" * 42 + "==",  # too short once unpadded
        "A" * 43 + "==",  # one '=' too many
        "sha1=" + "a" * 64,
    ],
)
def test_malformed_signatures_fail(header: str | None) -> None:
    body = b"{}"
    assert not signature_matches("secret", body, header)


def data_changed(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "Cbfk5sHtDxrSrJBRjsDtbaN9",
        "type": "data-changed",
        "data": {
            "integration_id": "personio:CBNMt7dSNCzBdnRTx87dev4E",
            "integration_tool": "personio",
            "integration_category": "ATS",
            "changed_models": [{"name": "ats_interviews"}, {"name": "hris_employees"}],
        },
    }
    body.update(changes)
    return body


def test_the_spec_example_parses() -> None:
    event = parse(json.dumps(data_changed()).encode())
    assert event == DataChanged(
        "Cbfk5sHtDxrSrJBRjsDtbaN9",
        "personio:CBNMt7dSNCzBdnRTx87dev4E",
        frozenset({"Interview"}),
        ("hris_employees",),
    )


def test_the_ten_served_models_by_their_webhook_names() -> None:
    spec = yaml.safe_load(SPEC.read_text())
    payload = spec["components"]["schemas"]["DataChangedWebhookPayload"]
    names = payload["properties"]["data"]["properties"]["changed_models"]["items"]["properties"]
    kombo_names = set(names["name"]["enum"])
    assert set(MODEL_NAMES) <= kombo_names
    assert MODEL_NAMES == {
        "ats_interviews": "Interview",
        "ats_applications": "Application",
        "ats_candidates": "Candidate",
        "ats_jobs": "Job",
        "ats_users": "User",
        "ats_offers": "Offer",
        "ats_tags": "Tag",
        "ats_rejection_reasons": "RejectionReason",
        "ats_application_stages": "ApplicationStage",
        "ats_roles": "Role",
    }


@given(names=st.lists(st.sampled_from([*MODEL_NAMES, "ats_job_postings", "hris_teams", "new"])))
def test_changed_models_map_to_catalog_names(names: list[str]) -> None:
    body = data_changed()
    body["data"]["changed_models"] = [{"name": n} for n in names]
    event = parse(json.dumps(body).encode())
    assert isinstance(event, DataChanged)
    assert event.models == {MODEL_NAMES[n] for n in names if n in MODEL_NAMES}
    assert event.ignored_models == tuple(n for n in names if n not in MODEL_NAMES)


def test_other_event_types_are_ignored() -> None:
    assert parse(b'{"id": "e1", "type": "connection-created", "data": 1}') == Ignored(
        "e1", "connection-created"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"[]",
        b'"data-changed"',
        b"{}",
        json.dumps(data_changed(id=7)).encode(),
        json.dumps(data_changed(id="")).encode(),
        json.dumps(data_changed(id="x" * 257)).encode(),
        json.dumps(data_changed(type=None)).encode(),
        json.dumps(data_changed(data=[])).encode(),
        json.dumps(data_changed(data={"changed_models": []})).encode(),
        json.dumps(data_changed(data={"integration_id": "", "changed_models": []})).encode(),
        json.dumps(data_changed(data={"integration_id": "i", "changed_models": {}})).encode(),
        json.dumps(data_changed(data={"integration_id": "i", "changed_models": ["x"]})).encode(),
        json.dumps(data_changed(data={"integration_id": "i", "changed_models": [{}]})).encode(),
        json.dumps(
            data_changed(data={"integration_id": "i", "changed_models": [{"name": 1}]})
        ).encode(),
    ],
)
def test_malformed_bodies_are_refused_with_400(body: bytes) -> None:
    with pytest.raises(MalformedWebhook) as refused:
        parse(body)
    assert refused.value.status == 400


def test_an_oversized_body_is_refused_with_413() -> None:
    body = data_changed()
    body["padding"] = "x" * MAX_BODY_BYTES
    with pytest.raises(BodyTooLarge) as refused:
        parse(json.dumps(body).encode())
    assert refused.value.status == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=json_values)
def test_any_json_is_an_event_or_a_webhook_error(value: Any) -> None:
    try:
        event = parse(json.dumps(value).encode())
    except WebhookError:
        return
    assert isinstance(event, DataChanged | Ignored)


@given(
    event_id=st.text(min_size=1, max_size=256),
    integration=st.text(min_size=1, max_size=256),
)
def test_any_ids_are_kept_exactly(event_id: str, integration: str) -> None:
    body = data_changed(id=event_id)
    body["data"]["integration_id"] = integration
    event = parse(json.dumps(body).encode())
    assert isinstance(event, DataChanged)
    assert (event.event_id, event.integration_id) == (event_id, integration)
