"""Kombo's API as the client tests see it: a key, an integration, the base URL, retries without
back-off and the spec's example page of GET /ats/interviews."""

from __future__ import annotations

from typing import Any

from gateway.kombo.retry import RetryPolicy

API_KEY = "sk-test-" + "7f3a9c" * 4
INTEGRATION = "workday:HWUTwvyx2wLoSUHphiWVrp28"
BASE_URL = "https://api.kombo.dev/v1"

# Retries as in production (same count, same Retry-After cap) but with no back-off between them:
# the client tests assert what is retried, not how long it waits (test_retry.py fakes the sleep
# for the tests that do).
ZERO_BACKOFF = RetryPolicy(base_delay=0.0)

# The 200 example of GET /ats/interviews, copied from spec/kombo-get-interviews.openapi.yaml.
SPEC_EXAMPLE: dict[str, Any] = {
    "status": "success",
    "data": {
        "next": (
            "eyJwYWdlIjoxMiwibm90ZSI6InRoaXMgaXMganVzdCBhbiBleGFtcGxlIGFuZCBub3QgcmVwcmVzZW50YXRp"
            "dmUgZm9yIGEgcmVhbCBjdXJzb3IhIn0="
        ),
        "results": [
            {
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
                "remote_created_at": "2022-08-07T14:01:29.196Z",
                "remote_updated_at": "2022-08-07T14:01:29.196Z",
                "remote_data": None,
                "changed_at": "2022-08-07T14:01:29.196Z",
                "remote_deleted_at": None,
                "users": [
                    {
                        "id": "26vafvWSRmbhNcxJYqjCzuJg",
                        "remote_id": "32",
                        "first_name": "John",
                        "last_name": "Doe",
                        "email": "john.doe@kombo.dev",
                    }
                ],
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
                        "email_addresses": [
                            {"email_address": "john.doe@example.com", "type": "PRIVATE"}
                        ],
                    },
                    "job": {
                        "id": "H5daSm8e85Dmvmne3wLeCPhX",
                        "remote_id": "32",
                        "name": "Backend Engineer",
                    },
                },
            }
        ],
    },
}
