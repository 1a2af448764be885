"""Choosing the warehouse an order ships from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from models.domain.geo import Point, distance_km


@dataclass(frozen=True)
class WarehouseStock:
    """A warehouse, where it is, and what it can sell of each product."""

    warehouse_id: int
    code: str
    location: Point
    available: Mapping[str, int] = field(default_factory=dict)

    def can_fill(self, wanted: Mapping[str, int]) -> bool:
        """Whether this warehouse alone has every wanted quantity."""
        return all(self.available.get(sku, 0) >= qty for sku, qty in wanted.items())


@dataclass(frozen=True)
class Candidate:
    """A warehouse considered for an order, with its distance and whether it can fill it."""

    warehouse_id: int
    code: str
    distance_km: float
    can_fill: bool


@dataclass(frozen=True)
class Decision:
    """The outcome of allocation and the receipt that explains it."""

    warehouse_id: int | None
    reason: str
    candidates: tuple[Candidate, ...]

    @property
    def allocated(self) -> bool:
        """Whether a warehouse was chosen."""
        return self.warehouse_id is not None


def rank(customer: Point, warehouses: Sequence[WarehouseStock]) -> list[WarehouseStock]:
    """Warehouses by great-circle distance to the customer, nearest first, ties by code."""
    return sorted(warehouses, key=lambda w: (distance_km(customer, w.location), w.code))


def choose_warehouse(
    customer: Point, wanted: Mapping[str, int], warehouses: Sequence[WarehouseStock]
) -> Decision:
    """The nearest warehouse that holds the whole order, with every candidate considered."""
    ranked = rank(customer, warehouses)
    candidates = tuple(
        Candidate(
            w.warehouse_id, w.code, round(distance_km(customer, w.location), 1), w.can_fill(wanted)
        )
        for w in ranked
    )
    for candidate in candidates:
        if candidate.can_fill:
            nearer = candidates.index(candidate)
            reason = (
                "nearest warehouse holds the whole order"
                if nearer == 0
                else f"nearest warehouse that holds the whole order ({nearer} nearer cannot)"
            )
            return Decision(candidate.warehouse_id, reason, candidates)
    return Decision(None, "no warehouse holds the whole order", candidates)
