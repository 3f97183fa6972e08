"""The last check: no response body leaves with one of the process's secrets (issue 8,
finding 5's defence in depth), at the cost of one memchr-fast scan per secret spelling."""

from __future__ import annotations

import logging
import time

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gateway.redaction import REDACTED, Redactor
from gateway.secret_guard import SecretGuard

KEY = "sk-live-" + "5e" * 12
JWT_SECRET = "jwt-secret-" + "a1" * 16
QUOTED = 'cursor "secret" \\ ' + "b2" * 8  # JSON escapes it: its escaped spelling is scanned too
redactor = Redactor([KEY, JWT_SECRET, QUOTED])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def app_answering(body: bytes, streamed: bool = False) -> Starlette:
    async def endpoint(_request: Request) -> Response:
        if streamed:

            async def chunks():  # type: ignore[no-untyped-def]
                yield body[:5]  # a secret split across chunks is not seen (docstring)
                yield body[5:]

            return StreamingResponse(chunks(), media_type="application/json")
        return Response(body, media_type="application/json")

    return Starlette(routes=[Route("/", endpoint)])


async def get(app: Starlette) -> httpx.Response:
    guarded = SecretGuard(app, redactor)
    transport = httpx.ASGITransport(app=guarded)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        return await client.get("/")


@pytest.mark.anyio
async def test_a_body_with_secrets_is_redacted_and_its_length_corrected(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = orjson.dumps({"data": {"title": KEY, "other": [JWT_SECRET, QUOTED]}})
    with caplog.at_level(logging.ERROR, logger="gateway.secret_guard"):
        response = await get(app_answering(body))
    assert response.json() == {"data": {"title": REDACTED, "other": [REDACTED, REDACTED]}}
    assert int(response.headers["content-length"]) == len(response.content)
    assert [r.getMessage() for r in caplog.records] == [
        "a response to / carried a secret: redacted"
    ]


@pytest.mark.anyio
async def test_a_streamed_body_is_masked_chunk_by_chunk() -> None:
    body = b'{"a": "' + KEY.encode() + b'"}'
    response = await get(app_answering(body, streamed=True))
    assert KEY not in response.text
    assert response.json() == {"a": "*" * len(KEY)}


@pytest.mark.anyio
async def test_a_clean_body_passes_unchanged() -> None:
    body = orjson.dumps({"data": {"title": "sk-live-nothing"}})
    response = await get(app_answering(body))
    assert response.content == body
    assert response.headers["content-length"] == str(len(body))


def test_scanning_a_7_mb_answer_for_three_secrets_is_cheap() -> None:
    # As large as the 7.3 MB answer of issue 8's wide query, and slower to scan (one repeated
    # byte everywhere).
    body = orjson.dumps(
        {"data": [{"id": f"interview-{n}", "title": "x" * 60} for n in range(80_000)]}
    )
    assert len(body) > 7_000_000
    started = time.process_time()
    for _ in range(10):
        assert redactor.scrub(body) is None
    per_answer = (time.process_time() - started) / 10
    # Measured ~11 ms for this body (2.7 ms on a real 6.6 MB answer); 50 ms is still cheap.
    assert per_answer < 0.05, f"{per_answer * 1000:.1f} ms per answer"
