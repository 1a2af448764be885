"""The chaos run's wait for rest, as its log tells it."""

from __future__ import annotations

from tests.chaos.rest import Snapshot, telling

ORDER = "a" * 8 + "-1"


def test_waiting_for_rest_says_every_ten_seconds_what_is_still_unsettled() -> None:
    moving = Snapshot({ORDER: "paid"}, (), {"outbox": 2}, 0, 0)
    settled = Snapshot({ORDER: "shipped"}, (), {"outbox": 0}, 0, 0)
    looks, now = iter([moving, moving, moving, settled]), [100.0]
    said: list[str] = []
    look = telling(lambda: next(looks), since=100.0, say=said.append, clock=lambda: now[0])

    for at in (104.0, 111.0, 115.0, 125.0):
        now[0] = at
        look()

    assert said == ["11 s after the faults: orders not at a final status: paid 1; outbox: 2"]
