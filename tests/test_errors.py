"""`gateway.errors`: each gateway error's contract code and HTTP status, and Kombo's details
kept on upstream errors."""

from __future__ import annotations

import pytest

from gateway.errors import (
    BadUserInput,
    Forbidden,
    GatewayError,
    QueryTooComplex,
    Unauthenticated,
    UpstreamError,
    UpstreamUnavailable,
)


@pytest.mark.parametrize(
    ("error_class", "code", "status"),
    [
        (BadUserInput, "BAD_USER_INPUT", 400),
        (Unauthenticated, "UNAUTHENTICATED", 401),
        (Forbidden, "FORBIDDEN", 403),
        (QueryTooComplex, "QUERY_TOO_COMPLEX", 400),
        (UpstreamUnavailable, "UPSTREAM_UNAVAILABLE", 502),
    ],
)
def test_each_gateway_error_has_its_contract_code(
    error_class: type[GatewayError], code: str, status: int
) -> None:
    error = error_class("what went wrong")

    assert isinstance(error, GatewayError)
    assert (error.code, error.http_status, error.message) == (code, status, "what went wrong")
    assert error.extensions() == {"code": code}
    assert error_class().message  # a default message when none is given


def test_upstream_error_keeps_kombos_details() -> None:
    error = UpstreamError(
        "The employees model is not available.",
        code="INTEGRATION.MODEL_NOT_AVAILABLE",
        title="Model not available",
        log_url="https://app.kombo.dev/logs?interactionId=1",
        status=404,
    )

    assert error.extensions() == {
        "code": "INTEGRATION.MODEL_NOT_AVAILABLE",
        "title": "Model not available",
        "logUrl": "https://app.kombo.dev/logs?interactionId=1",
        "status": 404,
    }


def test_upstream_error_without_kombo_code_is_upstream_error() -> None:
    error = UpstreamError("boom", code=None, title=None, log_url=None, status=500)

    assert error.code == "UPSTREAM_ERROR"
    assert error.extensions() == {
        "code": "UPSTREAM_ERROR",
        "title": None,
        "logUrl": None,
        "status": 500,
    }
