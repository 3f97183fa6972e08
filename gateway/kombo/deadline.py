"""A point in time past which a caller no longer wants Kombo's answer."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Deadline:
    """``at`` is a :func:`time.monotonic` instant; ``budget`` the seconds it was set for.

    The budget is only kept to say in an error message what the caller allowed in all.
    """

    at: float
    budget: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(at=time.monotonic() + seconds, budget=seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        """``"the request's 10 s deadline"``, for messages."""
        return f"the request's {self.budget:g} s deadline"
