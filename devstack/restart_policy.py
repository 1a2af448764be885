"""When to restart a crashed process: a backoff that grows with each crash in a row."""

from __future__ import annotations

import random
from dataclasses import dataclass

from models.domain.backoff import backoff

FIRST_DELAY = 1.0
LONGEST_DELAY = 30.0
STABLE_AFTER = 60.0


@dataclass
class RestartPolicy:
    """The backoff for one process; a run of `stable_after` seconds forgives earlier crashes.

    It never gives up. A process that keeps crashing locally is usually code being edited
    or a service still starting: a retry every half minute or so picks up the fix without
    throwing away the embedded database's data, and costs almost nothing meanwhile.
    """

    first_delay: float = FIRST_DELAY
    longest_delay: float = LONGEST_DELAY
    stable_after: float = STABLE_AFTER
    rng: random.Random | None = None
    crashes_in_a_row: int = 0

    def delay_after_crash(self, uptime: float) -> float:
        """Seconds to wait before restarting a process that crashed after `uptime` seconds up."""
        if uptime >= self.stable_after:
            self.crashes_in_a_row = 0
        delay = backoff(
            self.crashes_in_a_row, base=self.first_delay, cap=self.longest_delay, rng=self.rng
        )
        self.crashes_in_a_row += 1
        return delay
