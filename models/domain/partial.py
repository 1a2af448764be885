"""Partial fulfilment: which whole lines of a short order can ship now, and the rest later.

Lines are never split by units: a line ships whole in one part. A line that all
warehouses together cannot cover waits for a later part; a line they can cover ships now,
from as few warehouses as the usual rules choose. Pickup orders are collected in one
place and go whole or not at all, so they are never partial.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.domain.allocation import Outcome, Plan


@dataclass(frozen=True)
class Split:
    """The lines that ship in this part, and those that wait (article -> units)."""

    now: dict[str, int]
    waiting: dict[str, int]


def coverable(plan: Plan, wanted: Mapping[str, int]) -> Split | None:
    """Split a short plan's order into lines all warehouses together hold and the rest;
    None when none or all of them can be covered (nothing to ship, or nothing to split)."""
    if plan.outcome is not Outcome.SHORT:
        return None
    totals = {a: sum(c.available.get(a, 0) for c in plan.candidates) for a in wanted}
    now = {a: q for a, q in wanted.items() if totals[a] >= q}
    waiting = {a: q for a, q in wanted.items() if a not in now}
    if not now or not waiting:
        return None
    return Split(now, waiting)


def part_charge(
    units: Mapping[int, int], prices: Mapping[int, int], *, part: int, delivery_cost: int
) -> int:
    """What a part of an order costs: its units at their price, plus the delivery on part 1
    alone (the customer pays for delivery once, however many parcels it takes)."""
    goods = sum(quantity * prices[line] for line, quantity in units.items())
    return goods + (delivery_cost if part == 1 else 0)
