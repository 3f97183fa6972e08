"""The id of the request being served, for log lines: a context variable.

:class:`RequestIdMiddleware` sets it for every HTTP request, from ``X-Request-Id`` when the
client sent a usable one (:func:`accept_request_id`: at most 128 characters of a safe set, so a
log line cannot be forged or bloated through it) or a fresh one, and returns it in the
response's ``X-Request-Id``. Everything awaited while serving that request, tasks it starts
included, reads the same value. Outside a request it is ``"-"``.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"
MAX_LENGTH = 128
_ACCEPTED = re.compile(rf"[A-Za-z0-9._:+/=-]{{1,{MAX_LENGTH}}}")
_HEADER_KEY = HEADER.lower().encode()

_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served, or ``"-"`` outside one."""
    return _request_id.get()


def set_request_id(value: str) -> Token[str]:
    """Make ``value`` the current request id; the token restores the previous one."""
    return _request_id.set(value)


def accept_request_id(sent: str | None) -> str:
    """``sent`` when it is a usable id (1 to 128 of ``A-Z a-z 0-9 . _ : + / = -``), else a
    fresh one (32 hex digits)."""
    if sent is not None and _ACCEPTED.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives every HTTP request its id (see the module docstring) and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == _HEADER_KEY), None)
        request_id = accept_request_id(sent.decode("latin-1") if sent is not None else None)
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (_HEADER_KEY, encoded)]
                message = {**message, "headers": headers}
            await send(message)

        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)
