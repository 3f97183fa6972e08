"""``POST /webhooks/kombo``: Kombo's ``data-changed`` webhook, a hint, answered at once.

In order (what is checked is :mod:`gateway.live.webhook`'s, and said there exactly):

1. a declared ``Content-Length`` over 64 KiB, or a body that grows past it: **413**;
2. with ``KOMBO_WEBHOOK_SECRET`` set, ``X-Kombo-Signature`` missing or not the body's
   HMAC-SHA256: **401**, before the body is parsed, with no upstream call and nothing scheduled;
3. not UTF-8 JSON, or not the ``data-changed`` schema: **400**;
4. another event ``type``: **200**, logged, nothing done;
5. an event ``id`` seen before (by any replica with Redis): **200**, nothing scheduled;
6. otherwise **200** at once, and a hint for the named models of the integration is sent in the
   background (:meth:`gateway.live.hub.LiveFeed.hint`): refreshes are rate-limited per
   (integration, model), never awaited here.

Every answer is JSON (``{"status": ...}``, or ``{"error": {"code", "message"}}``) with
``Cache-Control: no-store``. Nothing of the body ever reaches a subscriber.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.http.responses import encode_json
from gateway.live.hub import LiveFeed
from gateway.live.webhook import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    BodyTooLarge,
    DataChanged,
    WebhookError,
    check_size,
    parse,
    signature_matches,
)
from gateway.observability.metrics import LIVE_WEBHOOKS

__all__ = ["KomboWebhook"]

log = logging.getLogger("gateway.webhooks")


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        encode_json(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _refused(status: int, code: str, message: str, outcome: str) -> Response:
    LIVE_WEBHOOKS.labels(outcome).inc()
    headers = (
        {"WWW-Authenticate": f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'} if status == 401 else {}
    )
    return _answer(status, {"error": {"code": code, "message": message}}, headers)


class KomboWebhook:
    """The route's endpoint: ``live`` gets the hints; ``secret`` (``KOMBO_WEBHOOK_SECRET``),
    when set, is required of every body's signature."""

    def __init__(self, live: LiveFeed, secret: str | None, max_body_bytes: int = MAX_BODY_BYTES):
        self.live = live
        self.secret = secret
        self.max_body_bytes = max_body_bytes
        self._hints: set[asyncio.Task[None]] = set()

    async def handle(self, request: Request) -> Response:
        """Answer one webhook delivery (module doc)."""
        try:
            body = await self._read(request)
        except BodyTooLarge as exc:
            return _refused(413, "PAYLOAD_TOO_LARGE", str(exc), "too_large")
        except ClientDisconnect:
            return _answer(400, {"error": {"code": "BAD_REQUEST", "message": "disconnected"}})
        if self.secret is not None and not signature_matches(
            self.secret, body, request.headers.get(SIGNATURE_HEADER)
        ):
            log.warning("Kombo webhook refused: %s missing or wrong", SIGNATURE_HEADER)
            return _refused(
                401, "UNAUTHENTICATED", f"{SIGNATURE_HEADER} does not verify", "unauthorized"
            )
        try:
            event = parse(body)
        except WebhookError as exc:
            return _refused(exc.status, "BAD_REQUEST", str(exc), "malformed")
        if not isinstance(event, DataChanged):
            log.info(
                "Kombo webhook %s of type %r acknowledged and ignored", event.event_id, event.type
            )
            LIVE_WEBHOOKS.labels("ignored").inc()
            return _answer(200, {"status": "ignored"})
        try:
            first = await self.live.first_delivery(event.event_id)
        except Exception as exc:  # the coordinator's outage: better a repeated hint than none
            log.warning("webhook de-duplication unavailable (%s): taking %s", exc, event.event_id)
            first = True
        if not first:
            LIVE_WEBHOOKS.labels("duplicate").inc()
            return _answer(200, {"status": "duplicate"})
        LIVE_WEBHOOKS.labels("accepted").inc()
        log.info(
            "Kombo webhook %s: %s changed for integration %s%s",
            event.event_id,
            ", ".join(sorted(event.models)) or "no served model",
            event.integration_id,
            f" (ignored: {', '.join(event.ignored_models)})" if event.ignored_models else "",
        )
        if event.models:
            task = asyncio.get_running_loop().create_task(self._hint(event))
            self._hints.add(task)
            task.add_done_callback(self._hints.discard)
        return _answer(200, {"status": "accepted"})

    async def _hint(self, event: DataChanged) -> None:
        try:
            await self.live.hint(event.integration_id, event.models, "webhook")
        except Exception as exc:
            log.warning("could not pass on webhook %s: %s", event.event_id, exc)

    async def _read(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit():
            check_size(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                raise BodyTooLarge(f"the body is larger than {self.max_body_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
