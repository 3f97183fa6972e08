"""Live changes: the per-process :class:`LiveFeed` below the GraphQL transports (issue 13).

A layer between :mod:`gateway.schema` and :mod:`gateway.upstream` (README "Layout"): the
schema's subscription reads :class:`LiveSubscription`, the webhook route calls
:meth:`LiveFeed.hint`; refreshes go through the app's Kombo client. No GraphQL here.
"""

from gateway.live.coordination import Coordinator, LocalCoordinator
from gateway.live.hub import ChangeEvent, LiveFeed, LiveLimitExceeded, LiveSubscription

__all__ = [
    "ChangeEvent",
    "Coordinator",
    "LiveFeed",
    "LiveLimitExceeded",
    "LiveSubscription",
    "LocalCoordinator",
]
