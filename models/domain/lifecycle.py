"""The order state machine."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Where an order is in its life."""

    RECEIVED = "received"
    BACKORDERED = "backordered"
    ALLOCATED = "allocated"
    # Stopped for review before it is charged (models/domain/holds.py); it keeps its stock.
    ON_HOLD = "on_hold"
    PAID = "paid"
    # Some lines shipped, the rest are backordered or on their way through the steps.
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    # A pickup order waits at its warehouse instead of shipping, until the customer collects it.
    READY_FOR_PICKUP = "ready_for_pickup"
    COLLECTED = "collected"
    REJECTED = "rejected"
    PAYMENT_FAILED = "payment_failed"
    CANCELLED = "cancelled"


class DeliveryMethod(StrEnum):
    """How the order reaches the customer: picked up at a warehouse, or delivered."""

    SELF_SERVICE = "self_service"
    CURBSIDE = "curbside"
    IN_DOOR = "in_door"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.RECEIVED: frozenset(
        {
            OrderStatus.ALLOCATED,
            OrderStatus.BACKORDERED,
            OrderStatus.REJECTED,
            OrderStatus.CANCELLED,
        }
    ),
    OrderStatus.BACKORDERED: frozenset({OrderStatus.ALLOCATED, OrderStatus.CANCELLED}),
    OrderStatus.ALLOCATED: frozenset(
        {OrderStatus.PAID, OrderStatus.PAYMENT_FAILED, OrderStatus.ON_HOLD, OrderStatus.CANCELLED}
    ),
    # Released (back to be charged) or cancelled, by staff, the customer or its expiry.
    OrderStatus.ON_HOLD: frozenset({OrderStatus.ALLOCATED, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset(
        {
            OrderStatus.SHIPPED,
            OrderStatus.PARTIALLY_SHIPPED,
            OrderStatus.READY_FOR_PICKUP,
            OrderStatus.CANCELLED,
            # Its authorisation lapsed before the capture: held for staff, charged again on
            # release (models/services/capture.py).
            OrderStatus.ON_HOLD,
        }
    ),
    OrderStatus.PARTIALLY_SHIPPED: frozenset({OrderStatus.SHIPPED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.DELIVERED}),
    OrderStatus.DELIVERED: frozenset(),
    OrderStatus.READY_FOR_PICKUP: frozenset({OrderStatus.COLLECTED, OrderStatus.CANCELLED}),
    OrderStatus.COLLECTED: frozenset(),
    OrderStatus.REJECTED: frozenset(),
    OrderStatus.PAYMENT_FAILED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}

# Who cancels a pickup order nobody collected within its hold, as its timeline records it.
PICKUP_EXPIRY_ACTOR = "system"

TERMINAL = frozenset(status for status, nexts in TRANSITIONS.items() if not nexts)


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether an order in `current` may move to `target`."""
    return target in TRANSITIONS[current]


def next_step(status: OrderStatus) -> str | None:
    """The pipeline step that moves an order on from `status`, if any."""
    return {
        OrderStatus.RECEIVED: "allocate",
        OrderStatus.ALLOCATED: "charge",
        OrderStatus.PAID: "ship",
    }.get(status)
