"""Order totals and delivery promises, in integer minor units."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class PricedLine:
    """One order line priced at the moment of purchase."""

    article_number: str
    quantity: int
    unit_price: int

    @property
    def amount(self) -> int:
        """The line's amount in minor units."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Totals:
    """What the customer pays, in minor units."""

    subtotal: int
    delivery_cost: int

    @property
    def total(self) -> int:
        """Subtotal plus delivery."""
        return self.subtotal + self.delivery_cost


def order_totals(
    lines: Iterable[PricedLine], method: str, delivery_costs: Mapping[str, int]
) -> Totals:
    """Subtotal of the lines and the fixed delivery cost of the method."""
    return Totals(subtotal=sum(line.amount for line in lines), delivery_cost=delivery_costs[method])


def delivery_eta(placed_at: datetime, days: int) -> date:
    """The promised delivery date: a fixed number of days from the order, in UTC."""
    if placed_at.tzinfo is None:
        raise ValueError("placed_at must be timezone-aware")
    return (placed_at.astimezone(UTC) + timedelta(days=days)).date()
