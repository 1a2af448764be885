"""How long to wait before the next attempt."""

from __future__ import annotations

import random


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * 2 ** max(0, attempt))
    return (rng or random).uniform(0, ceiling)
