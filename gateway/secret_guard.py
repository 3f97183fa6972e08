"""The last check before bytes leave: no response body carries one of the process's secrets.

Strings an upstream supplies are redacted where they become GraphQL errors
(:func:`gateway.upstream.gateway_error`); this middleware is the defence in depth behind
that, for anything else that might echo a secret (an interview field Kombo fills with the key,
a future code path). A body that holds a secret is logged (without it) and answered with
``[redacted]`` in its place. The cost is one ``in`` check per secret spelling on each body:
2.7 ms of CPU for three secrets on a 6.6 MB answer (20 pages of 250 sandbox interviews, every
field; encoding it takes orjson ~10 ms), measured by
``python -m bench.hostile.upstream --only scrub-cost``.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.redaction import Redactor

log = logging.getLogger(__name__)

_MASK = b"*"


class SecretGuard:
    """ASGI middleware scrubbing ``redactor``'s secrets from every HTTP response body.

    An answer sent in one piece (every answer of the gateway but static files) is scrubbed
    whole and its ``Content-Length`` corrected; a streamed one chunk by chunk, each secret
    masked by as many ``*`` (its length already sent). A secret split across two chunks of a
    stream is not seen: the streamed answers are GraphiQL's static files.
    """

    def __init__(self, app: ASGIApp, redactor: Redactor) -> None:
        self.app = app
        self.redactor = redactor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.redactor.needles:
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def guarded_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message  # held until the body says whether it changes
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body = message.get("body", b"")
            whole = start is not None and not message.get("more_body", False)
            scrubbed = self.redactor.scrub(body, None if whole else _MASK)
            if scrubbed is not None:
                log.error("a response to %s carried a secret: redacted", scope.get("path"))
                message = {**message, "body": scrubbed}
                if whole and start is not None:
                    headers = [
                        (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
                    ]
                    headers.append((b"content-length", str(len(scrubbed)).encode()))
                    start = {**start, "headers": headers}
            if start is not None:
                await send(start)
                start = None
            await send(message)

        await self.app(scope, receive, guarded_send)
