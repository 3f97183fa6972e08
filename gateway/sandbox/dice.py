"""The seeded randomness the non-interview records are drawn with.

One :class:`Dice` per integration, seeded apart from the interviews generator's own RNG, so the
interviews stay exactly what :mod:`gateway.sandbox.generation` draws. Ids stay unique per model
only (the generator's per-kind id sets are shared, so new records never collide with drawn ones
of the same model); ``reuse`` makes a cross-model twin on purpose.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.sandbox.generation import format_timestamp

__all__ = ["EPOCH", "INITIAL_SYNC", "Dice", "ts"]

EPOCH = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
INITIAL_SYNC = datetime(2024, 2, 20, 3, 12, 45, 123_000, tzinfo=UTC)
"""Kombo's initial sync of every sandbox integration (the interviews generator's instant)."""

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_KINDS = {
    "User": "user",
    "Job": "job",
    "ApplicationStage": "stage",
    "Candidate": "candidate",
    "Application": "application",
    "Interview": "interview",
}
"""The generator's id kinds, by model (the other models' kinds are their names)."""


class Dice:
    """Ids, instants and choices for one integration's records."""

    def __init__(self, seed: int, ids: dict[str, set[str]]) -> None:
        self.rng = random.Random(seed)
        self.ids = ids

    def new_id(self, model: str, reuse: str | None = None) -> str:
        seen = self.ids.setdefault(_KINDS.get(model, model), set())
        value = reuse
        if value is None:
            value = "".join(self.rng.choices(_BASE58, k=24))
            while value in seen:
                value = "".join(self.rng.choices(_BASE58, k=24))
        elif value in seen:
            raise AssertionError(f"{value} is already a {model} id")
        seen.add(value)
        return value

    def after(self, start: datetime, max_days: float) -> datetime:
        return start + timedelta(milliseconds=self.rng.randint(0, int(max_days * 86_400_000)))

    def changed(self) -> datetime:
        """A ``changed_at``: the initial sync for most records, later for some."""
        return INITIAL_SYNC if self.rng.random() < 0.6 else self.after(INITIAL_SYNC, 60)

    def created(self) -> datetime:
        return self.after(EPOCH - timedelta(days=400), 400)

    def later(self, changed: datetime, chance: float) -> str | None:
        """Sometimes a nested change after ``changed`` (a hidden ``updated_after`` event)."""
        return format_timestamp(self.after(changed, 45)) if self.rng.random() < chance else None

    def choice(self, values: Any) -> Any:
        return self.rng.choice(values)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def ts(value: datetime | None) -> str | None:
    """Kombo's timestamp format, ``None`` kept."""
    return None if value is None else format_timestamp(value)
