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


def charge_key(order_id: uuid.UUID, part: int = 1) -> str:
    """The gateway idempotency key: derived from the order (and its part, after the first),
    the same on every attempt."""
    return f"order-{order_id}-charge" if part == 1 else f"order-{order_id}-charge-{part}"


def capture_key(order_id: uuid.UUID, payment_intent_id: str) -> str:
    """The gateway idempotency key of an authorisation's capture: one per intent, so a
    renewed authorisation is captured under a key of its own."""
    return f"order-{order_id}-capture-{payment_intent_id}"


def charge_generation_key(order_id: uuid.UUID, generation: int) -> str:
    """The key of the order's charge after `generation` authorisations lapsed: a new charge,
    never the replay of the lapsed one."""
    base = charge_key(order_id)
    return base if generation == 0 else f"{base}-{generation}"


def renewal_key(order_id: uuid.UUID, renewal: int) -> str:
    """The key of the `renewal`th re-authorisation of the order's payment."""
    return f"order-{order_id}-reauthorize-{renewal}"


def refund_key(order_id: uuid.UUID, part: int = 1) -> str:
    """The gateway idempotency key of a payment's whole refund: the same on every attempt."""
    return f"order-{order_id}-refund" if part == 1 else f"order-{order_id}-refund-{part}"


def charge_reference(order_id: uuid.UUID, part: int = 1) -> str:
    """The order reference a charge carries to the gateway (metadata order_id), and what a
    search for it asks: the order's id for part 1, the id and part for later parts, so a
    search for one part never finds another's charge."""
    return str(order_id) if part == 1 else f"{order_id}/part-{part}"
