"""How the gateway executes its schema: the compiled fast path and the document caches.

:func:`executable_schema` is the schema the app serves: :func:`gateway.schema.build_schema`
given the fast path (:mod:`gateway.execution.fastpath`) as its execution context and the parse
and validation caches (:mod:`gateway.execution.document_cache`) as extensions. The schema package
knows nothing of either (README "Layout").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from strawberry.extensions import SchemaExtension

from gateway.execution.document_cache import ParseCache, ValidationCache
from gateway.execution.executor import AcyclicExecutor
from gateway.execution.fastpath import fast_path_executor
from gateway.schema import GatewaySchema, QueryLimits, build_schema


def executable_schema(
    limits: QueryLimits | None = None,
    *,
    fast_path: bool = True,
    observers: Sequence[Callable[[], SchemaExtension]] = (),
    extensions: Sequence[Callable[[], SchemaExtension]] = (),
) -> GatewaySchema:
    """The gateway's schema as it executes requests.

    ``fast_path`` completes eligible selections with compiled projections
    (:mod:`gateway.execution.fastpath`), byte-for-byte equal to graphql-core's completion.

    Frontends send the same few documents again and again: each is parsed and validated once
    (one LRU shared by the process, bounded by document size, count and memory; the token limit
    still applies first). ``observers`` (per-request factories: the app's recorder that names each
    request for its operators) come before the caches, ``extensions`` (such as the
    persisted-query registration of :mod:`gateway.persisted`) after them.
    """
    return build_schema(
        limits,
        execution_context_class=fast_path_executor() if fast_path else AcyclicExecutor,
        extensions=[*observers, ParseCache, ValidationCache, *extensions],
    )


__all__ = ["executable_schema"]
