"""Webhook arithmetic: which order events the shop never acknowledged, which arrived out of
order, and which it was sent more than once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class HookAck:
    """One event the receiver answered 200, as its payload named it."""

    # The event's number (`evt_<n>`): events are numbered in the order they were created.
    event_id: int
    order_id: str
    # The timeline kind behind it (`data.kind`), and the public type.
    kind: str
    event_type: str


def first_acks(acks: Sequence[HookAck]) -> list[HookAck]:
    """Each event's first acknowledgement, in the order they came."""
    seen: set[int] = set()
    first = []
    for ack in acks:
        if ack.event_id not in seen:
            seen.add(ack.event_id)
            first.append(ack)
    return first


def events_lost(expected: Iterable[tuple[str, str]], acks: Sequence[HookAck]) -> int:
    """Order events the shop should hear of, by (order, kind), that it never acknowledged."""
    owed = Counter(expected)
    heard = Counter((ack.order_id, ack.kind) for ack in first_acks(acks))
    return sum(max(0, count - heard[key]) for key, count in owed.items())


def out_of_order(acks: Sequence[HookAck]) -> int:
    """Events acknowledged after an event of the same order that was created later."""
    latest: dict[str, int] = {}
    late = 0
    for ack in first_acks(acks):
        if ack.event_id < latest.get(ack.order_id, -1):
            late += 1
        latest[ack.order_id] = max(ack.event_id, latest.get(ack.order_id, -1))
    return late


def duplicates(acks: Sequence[HookAck]) -> int:
    """Acknowledgements beyond each event's first (at-least-once delivery allows them)."""
    return len(acks) - len(first_acks(acks))


def lost_by_kind(expected: Iterable[tuple[str, str]], acks: Sequence[HookAck]) -> dict[str, int]:
    """The events lost, by timeline kind: where a run's losses come from."""
    heard = Counter((ack.order_id, ack.kind) for ack in first_acks(acks))
    lost: Counter[str] = Counter()
    for (order_id, kind), count in Counter(expected).items():
        lost[kind] += max(0, count - heard[(order_id, kind)])
    return {kind: n for kind, n in sorted(lost.items()) if n}
