"""A crashed process waits longer after each crash in a row, and a long run forgives."""

from __future__ import annotations

import random

from devstack.restart_policy import RestartPolicy
from devstack.supervisor import how_it_ended


class Longest(random.Random):
    """Jitter that always picks the longest wait allowed, so the ceiling shows."""

    def uniform(self, a: float, b: float) -> float:
        """The upper bound."""
        return b


def test_each_crash_in_a_row_doubles_the_longest_wait_up_to_its_cap() -> None:
    policy = RestartPolicy(first_delay=1.0, longest_delay=30.0, rng=Longest())

    waits = [policy.delay_after_crash(uptime=0.5) for _ in range(8)]

    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert policy.crashes_in_a_row == 8


def test_a_process_that_stayed_up_long_enough_starts_again_from_the_first_wait() -> None:
    policy = RestartPolicy(first_delay=1.0, longest_delay=30.0, stable_after=60.0, rng=Longest())
    for _ in range(4):
        policy.delay_after_crash(uptime=2.0)

    after_a_short_run = policy.delay_after_crash(uptime=59.0)
    after_a_long_run = policy.delay_after_crash(uptime=60.0)

    assert after_a_short_run == 16.0
    assert after_a_long_run == 1.0
    assert policy.crashes_in_a_row == 1


def test_every_wait_is_jittered_between_zero_and_its_ceiling() -> None:
    policy = RestartPolicy(first_delay=1.0, longest_delay=30.0, rng=random.Random(7))

    waits = [policy.delay_after_crash(uptime=0.0) for _ in range(40)]

    ceilings = [min(30.0, 2.0**attempt) for attempt in range(40)]
    assert all(0.0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))
    assert len(set(waits)) == len(waits)


def test_a_process_killed_by_a_signal_is_named_by_that_signal() -> None:
    assert how_it_ended(-9) == "killed by SIGKILL"
    assert how_it_ended(3) == "exited with code 3"
