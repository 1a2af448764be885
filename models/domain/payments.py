"""Payment rules: the gateway keys derived from an order, and the failure codes we record."""

from __future__ import annotations

import uuid

from models.domain.lifecycle import OrderStatus

# The failure code of a payment given up on because the gateway stayed unreachable.
GATEWAY_UNAVAILABLE = "gateway_unavailable"
# The failure code of a payment whose intent never settled and was cancelled at the gateway.
NOT_SETTLED = "not_settled"
# Orders in these statuses will not be fulfilled: money they were charged goes back.
NOT_FULFILLED = frozenset({OrderStatus.CANCELLED, OrderStatus.PAYMENT_FAILED, OrderStatus.REJECTED})
# The failure code of a charge sent for an order cancelled before its answer came, where the
# gateway then knew of no charge. Search can trail a charge, so it is checked again later.
CANCELLED_IN_FLIGHT = "cancelled_in_flight"
# Outcomes we never learnt from the gateway: checked again once its search has caught up.
UNKNOWN_OUTCOMES = (GATEWAY_UNAVAILABLE, CANCELLED_IN_FLIGHT)


def charge_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key: derived from the order, the same on every attempt."""
    return f"order-{order_id}-charge"


def refund_key(order_id: uuid.UUID) -> str:
    """The gateway idempotency key of the order's refund: the same on every attempt."""
    return f"order-{order_id}-refund"
