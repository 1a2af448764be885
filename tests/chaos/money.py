"""The money checks of a run: the gateway's ledger against what each order is owed."""

from __future__ import annotations

from collections import defaultdict

from tests.chaos.facts import Charge, Facts
from tests.chaos.statuses import FULFILLED, PARTIALLY_SHIPPED


def money_counts(facts: Facts) -> dict[str, int]:
    """Orders charged twice, charges unresolved, refunds without a charge, shipped unpaid."""
    orders = {order.order_id: order for order in facts.orders}
    charges: dict[str, list[Charge]] = defaultdict(list)
    for charge in facts.charges:
        charges[charge.order_id].append(charge)
    held = {oid: sum(c.amount - c.refunded for c in found) for oid, found in charges.items()}
    # One charge per part of an order, and never more than its total between them.
    double = sum(
        len({c.part for c in found}) < len(found)
        or (oid in orders and sum(c.amount for c in found) > orders[oid].total)
        for oid, found in charges.items()
    )
    # Charged means fulfilled or refunded, per payment: money held for an order that will not
    # be fulfilled, or more than what it is owed for (a part given up, its lines cancelled).
    unresolved = sum(
        amount > 0
        and (
            oid not in orders
            or orders[oid].status not in FULFILLED | {PARTIALLY_SHIPPED}
            or amount > orders[oid].owed
        )
        for oid, amount in held.items()
    )
    refunded = {oid for oid, found in charges.items() if any(c.refunded for c in found)}
    without_charge = sum(c.refunded > c.amount for c in facts.charges) + len(
        facts.refunded_in_db - refunded
    )
    shipped_unpaid = sum(
        o.status in FULFILLED and held.get(o.order_id, 0) < o.owed for o in facts.orders
    )
    return {
        "double": double,
        "unresolved": unresolved,
        "refund_without_charge": without_charge,
        "shipped_unpaid": shipped_unpaid,
    }
