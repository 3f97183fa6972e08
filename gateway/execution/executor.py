"""graphql-core's executor, freed by reference counting when its request ends.

graphql-core 3.3 gives every executor resolver helpers bound to itself
(``self.async_helpers = GraphQLResolveInfoHelpers(gather=self.gather_async_work,
track=self.track_async_work)``): a reference cycle. Everything the executor reaches (the context,
its upstream access and loaders, every page of Kombo's decoded JSON, the variables) then outlives
the request until the cyclic garbage collector finds it; requests overlap, so by then the objects
have been promoted, and only full collections (every object of the process traversed, ~100 ms in
a worker) free them. Under load that was a quarter of a worker's CPU and its worst latencies.

:class:`AcyclicExecutor` builds the same helpers over a weak reference: the running execution
holds its executor (every resolver is called from its frames), so the helpers always find it.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql.pyutils import gather_with_cancel
from graphql.type import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["AcyclicExecutor"]


class AcyclicExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core executor without the cycle through its resolver helpers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        executor = weakref.ref(self)

        def track(values: Sequence[Any]) -> None:
            alive = executor()
            if alive is not None:
                alive.track_async_work(values)

        def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
            alive = executor()
            if alive is not None:
                return alive.gather_async_work(values)
            return gather_with_cancel(*values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=gather, track=track)
