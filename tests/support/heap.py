"""What the cyclic garbage collector would have to free: the tests that requests leave no cycles.

:func:`collector_off` runs a block with the collector disabled, so that only reference counting
frees anything (a weak reference to an object of the block is dead afterwards only if nothing,
a cycle included, holds it). :func:`cyclic_garbage` lists the objects that only the collector
could free among those the block left behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_off() -> Iterator[None]:
    """The block with the cyclic collector off (and the collector as it was afterwards)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """The block's unreachable cycles, filled in when it ends: every object of each (``gc``'s
    ``DEBUG_SAVEALL``), the collector off meanwhile."""
    found: list[object] = []
    with collector_off():
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            yield found
            gc.collect()
            found.extend(gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
