"""The id of the request being served, for log lines: a context variable.

The gateway sets it when it builds a request's GraphQL context (from ``X-Request-Id``, or a fresh
one); everything awaited while serving that request, tasks it starts included, reads the same
value. Outside a request it is ``"-"``.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served, or ``"-"`` outside one."""
    return _request_id.get()


def set_request_id(value: str) -> Token[str]:
    """Make ``value`` the current request id; the token restores the previous one."""
    return _request_id.set(value)
