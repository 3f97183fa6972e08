"""What the live feed tells the outside about itself: the hook metrics hang on.

The feed is below the schema, which gets its telemetry through what it is given (README
"Layout"): the same here. :class:`LiveObserver` does nothing; the app hands the feed
:class:`gateway.observability.metrics.LiveMetrics`, which counts.
"""

from __future__ import annotations

__all__ = ["NO_OBSERVER", "LiveObserver"]


class LiveObserver:
    """Told of subscriptions, refreshes and deliveries; every method does nothing here."""

    def subscribers(self, delta: int) -> None:
        """Subscriptions opened (+1) or ended (-1)."""

    def refreshed(self, trigger: str, ok: bool) -> None:
        """A refresh (``webhook`` or ``poll``) ended, having reached its last page or not."""

    def published(self, model: str, count: int) -> None:
        """A refresh published ``count`` changed records of ``model``."""

    def delivered(self, count: int) -> None:
        """Changes queued for subscribers (one per subscriber and change)."""

    def dropped(self, reason: str, count: int) -> None:
        """Changes not delivered (``overflow``: a full queue ended the subscription)."""


NO_OBSERVER = LiveObserver()
