"""Holds for review before payment: the rules applied in the charge step, and a person's hold
and release.

The charge step asks `hold_for_review` in its first transaction, before any attempt is
counted or any money asked for: a held order ends the step with no charge. A release puts
the order back to allocated with its charge asked for in the same transaction, so the order
resumes exactly once however many releases race. Cancelling a held order is the ordinary
cancel (models/services/cancel.py): its stock goes back and there is nothing to refund.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models.domain.holds import Hold, HoldReason, HoldRules, OrderFacts, decide
from models.domain.lifecycle import OrderStatus
from models.store import holds as store
from models.store.geodata import locate_with_source
from models.store.orders import lock_order
from models.tables.orders import Order
from settings import Settings

log = logging.getLogger(__name__)

# Who the rules act as, in the timeline.
RULES_ACTOR = "hold rules"


def rules_from(settings: Settings) -> HoldRules:
    """The hold rules the settings turn on."""
    return HoldRules(
        amount_above=settings.hold_amount_above,
        country_mismatch=settings.hold_country_mismatch,
        orders_per_email_hour=settings.hold_orders_per_email_hour,
        imprecise_address=settings.hold_imprecise_address,
        reservation_hours=settings.hold_reservation_hours,
    )


def _facts(session: Session, order: Order, rules: HoldRules) -> OrderFacts:
    # Each costs a query: only a rule that is on pays for its own.
    recent = 0
    if rules.orders_per_email_hour is not None:
        recent = store.orders_in_the_hour(session, order.customer_email, order.created_at)
    exact = True
    if rules.imprecise_address:
        found = locate_with_source(session, order.ship_country, order.ship_postal_code)
        exact = found is not None and found.exact
    return OrderFacts(
        total=order.total,
        currency=order.currency,
        ship_country=order.ship_country,
        payment_method=order.payment_method,
        recent_orders=recent,
        exact_address=exact,
    )


def hold_for_review(
    session: Session, order_id: uuid.UUID, rules: HoldRules, now: datetime
) -> Hold | None:
    """Hold the allocated order if a rule says so, in the caller's transaction; the hold, or
    None to charge it. An order a person released before is not held again by the rules."""
    if not rules.any:
        return None
    # The row lock keeps a cancel from slipping between the decision and the hold.
    order = lock_order(session, order_id, OrderStatus.ALLOCATED)
    # Decided once, before the first attempt: a retry of a charge already sent is not held.
    if order is None or store.charge_attempted(session, order_id):
        return None
    if store.was_released(session, order_id):
        return None
    decision = decide(rules, _facts(session, order, rules))
    if decision is None:
        return None
    if not store.hold(
        session, order_id, decision, by=RULES_ACTOR, now=now, until=rules.hold_until(now)
    ):
        return None
    log.info("order held: %s", decision.reason.value, extra={"order_id": str(order_id)})
    return decision


class CannotHold(Exception):
    """The order is not where a hold or a release applies."""

    def __init__(self, status: str, wanted: str, why: str = "") -> None:
        super().__init__(f"an order that is {status} cannot be {wanted}{why}")
        self.status = status


@dataclass(frozen=True)
class HoldChange:
    """What a person's hold or release did: `changed` False when it was so already."""

    order_id: uuid.UUID
    status: str
    changed: bool
    reason: str | None


def _locked(session: Session, order_id: uuid.UUID) -> Order:
    order = session.get(Order, order_id, with_for_update=True)
    if order is None:
        raise LookupError(str(order_id))
    return order


def hold_by_hand(
    session: Session,
    order_id: uuid.UUID,
    held: Hold,
    *,
    by: str,
    now: datetime,
    rules: HoldRules,
) -> HoldChange:
    """A person holds an allocated order before it is charged; holding a held one changes
    nothing. CannotHold once it has moved past allocated."""
    order = _locked(session, order_id)
    if order.status == OrderStatus.ON_HOLD.value:
        return HoldChange(order_id, order.status, False, order.hold_reason)
    if store.charge_attempted(session, order_id):
        raise CannotHold(order.status, "held", ": a charge was sent for it already")
    if not store.hold(session, order_id, held, by=by, now=now, until=rules.hold_until(now)):
        raise CannotHold(order.status, "held")
    return HoldChange(order_id, OrderStatus.ON_HOLD.value, True, held.reason.value)


def release_by_hand(session: Session, order_id: uuid.UUID, *, by: str, now: datetime) -> HoldChange:
    """A person releases a held order: it goes on to be charged, once. Releasing an order
    already released (allocated again, or paid since) changes nothing; CannotHold for an
    order that was never held or is over."""
    order = _locked(session, order_id)
    if order.status != OrderStatus.ON_HOLD.value:
        if order.status in RELEASED_SINCE and store.was_released(session, order_id):
            return HoldChange(order_id, order.status, False, None)
        raise CannotHold(order.status, "released")
    reason = store.release(session, order_id, by=by, now=now)
    return HoldChange(order_id, OrderStatus.ALLOCATED.value, True, reason)


# Where a released order may be by the time a second release arrives.
RELEASED_SINCE = frozenset(
    s.value
    for s in (
        OrderStatus.ALLOCATED,
        OrderStatus.PAID,
        OrderStatus.PARTIALLY_SHIPPED,
        OrderStatus.SHIPPED,
        OrderStatus.DELIVERED,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.COLLECTED,
    )
)


def manual_hold(reason: HoldReason, note: str | None) -> Hold:
    """A person's hold: their reason, and their note or the reason's own words."""
    return Hold(reason, note or reason.value.replace("_", " "))
