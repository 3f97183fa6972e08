"""A serving process's heap and the cyclic garbage collector.

Reference counting frees what a request leaves behind (the gateway keeps its requests free of
reference cycles: :mod:`gateway.execution.executor`, :mod:`gateway.kombo.sender`);
the cyclic collector only has to look for the rare cycle. By default it looks far too often for
a server: a generation-0 collection every 700 net container allocations (one page of Kombo's
JSON alone is ~1,000 dicts and lists), and every so often a full collection that traverses each
object of the process (modules, the schema, generated projections: ~100 ms in a worker, a
stall for every request in flight). Measured under ``make bench``'s load (one worker, 100
interviews per request): the collector took a quarter of the worker's CPU.

:func:`settle_for_serving`, called once a worker has built its app, moves everything alive at that
point into the permanent generation (``gc.freeze``: never traversed again) and collects
generation 0 after :data:`GEN0_THRESHOLD` net allocations instead of 700. Cycles are still
collected; memory stays bounded (the threshold counts allocations *not yet freed*).
"""

from __future__ import annotations

import gc

__all__ = ["GEN0_THRESHOLD", "settle_for_serving"]

GEN0_THRESHOLD = 10_000
"""Net container allocations between two generation-0 collections (CPython's default: 700)."""


def settle_for_serving() -> None:
    """Freeze the startup heap and space the collections out (once per worker, after startup)."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
