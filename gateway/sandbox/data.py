"""The sandbox's integrations and their records, as the sandbox upstream serves them.

Each integration's ten models are generated deterministically (:mod:`gateway.sandbox.world`),
full of the edge cases a real Kombo tenant sends.

:func:`records_for` returns records in "upstream order": a fixed, arbitrary order that is neither
by id nor by time, so consumers that rely on order (results "in the order asked") must reorder
themselves. The returned payloads are shared, cached objects: do not mutate them.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType

from gateway.kombo.catalog import CATALOG
from gateway.sandbox.generation import Shape
from gateway.sandbox.world import SandboxRecord, World, build_world, shared_ids

__all__ = [
    "ALL_INTEGRATIONS",
    "INTEGRATIONS",
    "MODELS_NOT_AVAILABLE",
    "MODEL_NOT_AVAILABLE_INTEGRATION",
    "UNSUPPORTED_FILTERS",
    "SandboxInterview",
    "SandboxRecord",
    "add_integration",
    "has_integration",
    "interviews_for",
    "known_integrations",
    "records_for",
    "shape_of",
    "shared_ids_for",
]

INTEGRATIONS: tuple[str, ...] = ("sandbox:acme-corp", "greenhouse:globex", "workday:initech")
"""The integrations that serve interviews. ``INTEGRATIONS[0]`` is the default one."""

MODEL_NOT_AVAILABLE_INTEGRATION = "lever:no-interviews"
"""An integration that exists but answers ``INTEGRATION.MODEL_NOT_AVAILABLE`` for interviews
(it serves the other nine models)."""

ALL_INTEGRATIONS: tuple[str, ...] = (*INTEGRATIONS, MODEL_NOT_AVAILABLE_INTEGRATION)
"""Every integration the sandbox knows; others answer ``PLATFORM.INTEGRATION_NOT_FOUND``."""

MODELS_NOT_AVAILABLE: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        MODEL_NOT_AVAILABLE_INTEGRATION: frozenset({"/ats/interviews"}),
        "workday:initech": frozenset({"/ats/offers", "/ats/roles"}),
    }
)
"""Endpoints (model paths) an integration answers with 403 ``INTEGRATION.MODEL_NOT_AVAILABLE``.
Their records do not exist in that integration, and no other record inlines them."""

UNSUPPORTED_FILTERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"workday:initech": frozenset({"remote_ids", "name_contains", "email"})}
)
"""Filters an integration cannot apply (query parameter names), on every endpoint that has them.

Per the spec's ``ignore_unsupported_filters``: such a filter makes the result empty, unless
``ignore_unsupported_filters=true``, in which case it is ignored.
"""

_SHAPES: dict[str, Shape] = {
    "sandbox:acme-corp": Shape(1001, 260, 30, 24, "acme-corp.example", "int_{n}"),
    "greenhouse:globex": Shape(2002, 120, 14, 12, "globex.example", "40{n:08d}"),
    "workday:initech": Shape(3003, 40, 6, 7, "initech.example", "INTERVIEW_EVENT-3-{n}"),
    MODEL_NOT_AVAILABLE_INTEGRATION: Shape(4004, 30, 5, 8, "lever.example", "lev-{n}"),
}
"""How each integration's records are generated (:mod:`gateway.sandbox.generation`)."""


def add_integration(integration_id: str, shape: Shape) -> None:
    """Serve one more integration, generated from ``shape`` with every model (in this process
    only; for the bench's large integration). Adding an existing id is an error."""
    if integration_id in _SHAPES:
        raise ValueError(f"{integration_id} exists already")
    _SHAPES[integration_id] = shape


def has_integration(integration_id: str) -> bool:
    """Whether ``integration_id`` exists here (:data:`ALL_INTEGRATIONS` and added ones)."""
    return integration_id in _SHAPES


def known_integrations() -> tuple[str, ...]:
    """:data:`ALL_INTEGRATIONS` and the ones added since (:func:`add_integration`)."""
    return tuple(_SHAPES)


def shape_of(integration_id: str) -> Shape:
    """How ``integration_id``'s records are generated (to derive another integration from it)."""
    return _SHAPES[integration_id]


SandboxInterview = SandboxRecord
"""An interview as the sandbox serves it (the record type of every model)."""


@functools.cache
def _world(integration_id: str) -> World:
    lacking = MODELS_NOT_AVAILABLE.get(integration_id, frozenset())
    return build_world(_SHAPES[integration_id], frozenset(CATALOG.by_path(p).name for p in lacking))


def records_for(integration_id: str, model: str) -> list[SandboxRecord]:
    """The records of ``model`` (``"Job"``…) in one integration, in upstream order, deleted ones
    included.

    Raises ``KeyError`` for an unknown integration, and for a model the integration lacks
    (:data:`MODELS_NOT_AVAILABLE`). Generated once per process, then cached.
    """
    if integration_id not in _SHAPES:
        raise KeyError(integration_id)
    return list(_world(integration_id)[model])


def interviews_for(integration_id: str) -> list[SandboxRecord]:
    """The interviews of one integration, in upstream order, deleted ones included.

    Raises ``KeyError`` for an integration that has no interviews (unknown ids, and
    :data:`MODEL_NOT_AVAILABLE_INTEGRATION`).
    """
    return records_for(integration_id, "Interview")


def shared_ids_for(integration_id: str) -> dict[str, frozenset[str]]:
    """The Kombo ids that records of several models hold in one integration → those model
    names (e.g. a user's id that is also an interview's and a tag's)."""
    if integration_id not in _SHAPES:
        raise KeyError(integration_id)
    return shared_ids(_world(integration_id))
