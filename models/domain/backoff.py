"""How long to wait before the next attempt."""

from __future__ import annotations

import random


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter: a random wait in [0, min(cap, base * 2**attempt)]."""
    # The exponent is bounded so a huge attempt number cannot overflow a float.
    ceiling = min(cap, base * 2.0 ** min(max(0, attempt), 64))
    return (rng or random).uniform(0, ceiling)


# The longest wait between two attempts of a step. Short enough that once a fault is over
# every step has tried again within half a minute, long enough not to hammer what is down.
STEP_CAP_SECONDS = 30.0
