"""The one error the harness raises when a measurement cannot be trusted."""

from __future__ import annotations

__all__ = ["HarnessError"]


class HarnessError(RuntimeError):
    """A server died, a response was wrong, or the load generator failed: no numbers for this."""
