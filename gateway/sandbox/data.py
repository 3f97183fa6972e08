"""The sandbox's integrations and their interviews, as the sandbox upstream serves them.

The interviews are generated deterministically, full of the edge cases a real Kombo tenant sends
(:mod:`gateway.sandbox.generation`).

:func:`interviews_for` returns interviews in "upstream order": a fixed, arbitrary order that is
neither by id nor by time, so consumers that rely on order (results "in the order asked") must
reorder themselves. The returned payloads are shared, cached objects: do not mutate them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gateway.sandbox.generation import Shape, generate_interviews

__all__ = [
    "INTEGRATIONS",
    "MODEL_NOT_AVAILABLE_INTEGRATION",
    "UNSUPPORTED_FILTERS",
    "SandboxInterview",
    "interviews_for",
]

INTEGRATIONS: tuple[str, ...] = ("sandbox:acme-corp", "greenhouse:globex", "workday:initech")
"""The integrations that serve interviews. ``INTEGRATIONS[0]`` is the default one."""

MODEL_NOT_AVAILABLE_INTEGRATION = "lever:no-interviews"
"""An integration that exists but answers ``INTEGRATION.MODEL_NOT_AVAILABLE`` for interviews."""

UNSUPPORTED_FILTERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"workday:initech": frozenset({"remote_ids"})}
)
"""Filters an integration cannot apply (query parameter names).

Per the spec's ``ignore_unsupported_filters``: such a filter makes the result empty, unless
``ignore_unsupported_filters=true``, in which case it is ignored.
"""

_SHAPES: dict[str, Shape] = {
    "sandbox:acme-corp": Shape(1001, 260, 30, 24, "acme-corp.example", "int_{n}"),
    "greenhouse:globex": Shape(2002, 120, 14, 12, "globex.example", "40{n:08d}"),
    "workday:initech": Shape(3003, 40, 6, 7, "initech.example", "INTERVIEW_EVENT-3-{n}"),
}
"""How each integration's interviews are generated (:mod:`gateway.sandbox.generation`)."""


@dataclass(frozen=True)
class SandboxInterview:
    """One interview as the sandbox upstream serves it."""

    payload: dict[str, Any]
    """Exactly the upstream JSON object of one interview (snake_case, as in the spec)."""
    updated_at: str
    """When the record or its nested data last changed (``...Z``); ``>= payload["changed_at"]``.
    This is what ``updated_after`` compares against."""


def interviews_for(integration_id: str) -> list[SandboxInterview]:
    """The interviews of one integration, in upstream order, deleted ones included.

    Raises ``KeyError`` for an integration that has no interviews (unknown ids, and
    :data:`MODEL_NOT_AVAILABLE_INTEGRATION`). Generated once per process, then cached.
    """
    if integration_id not in _SHAPES:
        raise KeyError(integration_id)
    return list(_build(integration_id))


@functools.cache
def _build(integration_id: str) -> tuple[SandboxInterview, ...]:
    return tuple(
        SandboxInterview(payload=payload, updated_at=updated_at)
        for payload, updated_at in generate_interviews(_SHAPES[integration_id])
    )
