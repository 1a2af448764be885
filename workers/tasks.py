"""Thin Celery tasks: decode ids, call the step; the step records what follows it.

No task sends another. Each step writes its follow-ups (the next step, each mail, a refund)
as rows in the transaction of its change; they are sent right after commit and by the relay
until done (workers/follow_ups.py). Failures map onto those rows (workers/step_task.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from bootstrap import get_context
from models.domain import tasks as names
from models.domain.clock import utcnow
from models.ports import CaptureMethod, PaymentUnavailable
from models.services import reconcile
from models.services import renew as renewals
from models.services import watchdog as housekeeping
from models.services.alert import send_low_stock_alert
from models.services.allocate import AllocationContended, allocate_order, fill_backorders
from models.services.charge import charge_order
from models.services.charge_part import charge_part
from models.services.holds import rules_from
from models.services.notify import send_notification
from models.services.pickup import expire_pickups as expire_held_pickups
from models.services.refund import refund_order
from models.services.refund_part import refund_part
from models.services.relay import relay
from models.services.reservations import expire_reservations as expire_held_or_unpaid
from models.services.return_label import label_return
from models.services.settle import settle_payment
from models.services.ship import ship_order
from models.services.ship_part import ship_part
from models.store.errors import TRANSIENT_DB_ERRORS
from workers.app import app
from workers.broker_loss import send_again_if_lost
from workers.metrics import allocation_decided
from workers.step_task import StepTask, tell_operations

log = logging.getLogger(__name__)

# Database trouble and lost stock races: Celery tries again soon (the row's lease is the net).
RETRY: dict[str, Any] = {
    "autoretry_for": (*TRANSIENT_DB_ERRORS, AllocationContended),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}
STEP: dict[str, Any] = {"base": StepTask, **RETRY}


@app.task(name=names.ALLOCATE, **STEP)
def allocate(order_id: str) -> str:
    """Reserve stock for the order, then charge it, hold it, or tell the customer why not."""
    ctx = get_context()
    result = allocate_order(ctx.work, ctx.directory, ctx.settings, uuid.UUID(order_id))
    allocation_decided(result)
    return result.outcome.value


@app.task(name=names.CHARGE, **STEP)
def charge(order_id: str) -> str:
    """Take payment, or hold the order for review; the step asks for a retry while the gateway
    is away, then gives up."""
    ctx = get_context()
    holds = rules_from(ctx.settings)
    at_shipment = ctx.settings.payment_capture == "at_shipment"
    capture: CaptureMethod = "manual" if at_shipment else "automatic"
    order = uuid.UUID(order_id)
    return charge_order(ctx.work, ctx.gateway, order, holds=holds, capture=capture).value


@app.task(name=names.CHARGE_PART, **STEP)
def charge_part_task(order_id: str, part: int) -> str:
    """Take payment for a later part of a partially shipped order, once."""
    ctx = get_context()
    return charge_part(ctx.work, ctx.gateway, uuid.UUID(order_id), int(part)).value


@app.task(name=names.SETTLE_PAYMENT, **STEP)
def settle_payment_task(order_id: str) -> str:
    """Make an order's money match its fate: refund a charge it will not be fulfilled for."""
    ctx = get_context()
    return settle_payment(ctx.work, ctx.gateway, uuid.UUID(order_id)).value


@app.task(name=names.REFUND, **STEP)
def refund(order_id: str) -> str:
    """Give the money back, once; retried while the gateway is away, then ended."""
    ctx = get_context()
    return refund_order(ctx.work, ctx.gateway, uuid.UUID(order_id)).value


@app.task(name=names.REFUND_PART, **STEP)
def refund_part_task(order_id: str, refund_id: int) -> str:
    """Give back the money of some lines (a cancelled line, a return), once."""
    ctx = get_context()
    return refund_part(ctx.work, ctx.gateway, uuid.UUID(order_id), int(refund_id)).value


@app.task(name=names.SHIP, **STEP)
def ship(order_id: str) -> str:
    """Create the shipments and tell the customer how to track them; or make a pickup order
    ready at its warehouse."""
    ctx = get_context()
    hold = timedelta(days=ctx.settings.pickup_hold_days)
    hold_for = timedelta(hours=ctx.settings.hold_reservation_hours)
    order = uuid.UUID(order_id)
    return ship_order(
        ctx.work, ctx.carriers, order, hold=hold, gateway=ctx.gateway, hold_for=hold_for
    ).value


@app.task(name=names.SHIP_PART, **STEP)
def ship_part_task(order_id: str, part: int) -> str:
    """Ship a later part of a partially shipped order, once it is paid."""
    ctx = get_context()
    return ship_part(ctx.work, ctx.carriers, uuid.UUID(order_id), int(part)).value


@app.task(name=names.RETURN_LABEL, **STEP)
def return_label(order_id: str, return_id: int) -> str:
    """Book the label a return travels back under, and mail it with the RMA number."""
    ctx = get_context()
    return label_return(ctx.work, ctx.carriers, uuid.UUID(order_id), int(return_id)).value


@app.task(name=names.NOTIFY, **STEP)
def notify(order_id: str, kind: str) -> str:
    """Send one email about the order, once."""
    ctx = get_context()
    return send_notification(ctx.work, ctx.post, ctx.settings, uuid.UUID(order_id), kind).value


@app.task(name=names.ALERT_LOW_STOCK, **STEP)
def alert_low_stock(alert_id: int) -> bool:
    """Tell operations, once, that a product is running low in a warehouse."""
    ctx = get_context()
    return send_low_stock_alert(ctx.work, ctx.mailer, ctx.settings, alert_id)


# Periodic tasks, sent by beat: each expires before the next is sent, so a worker that was
# down does not come back to a pile of them.


@app.task(name="fulfillment.relay_outbox", **RETRY)
def relay_outbox() -> int:
    """Publish every follow-up due and not done: the guarantee behind publishing after commit.
    Tasks the broker lost with its queues are due at once (workers/broker_loss.py)."""
    ctx = get_context()
    send_again_if_lost(ctx.settings, ctx.work.sessions)
    return relay(
        ctx.work.sessions,
        ctx.relay_publisher,
        lease_seconds=ctx.settings.follow_up_lease_seconds,
        on_give_up=lambda session, row: tell_operations(
            session,
            row.payload.get("task", row.topic),
            tuple(row.payload.get("args", ())),
            "never ended",
        ),
    )


@app.task(name="fulfillment.retry_backorders", **RETRY)
def retry_backorders() -> int:
    """Give arriving stock to held orders, oldest first; how many could now be allocated."""
    ctx = get_context()
    filled = fill_backorders(ctx.work, ctx.directory, ctx.settings)
    for _, result in filled:
        allocation_decided(result)
    return sum(1 for _, result in filled if result.outcome.value == "allocated")


@app.task(name="fulfillment.sweep_low_stock_alerts", **RETRY)
def sweep_low_stock_alerts() -> int:
    """Ask again for alerts nobody has told operations about (a lost row, a bug)."""
    ctx = get_context()
    return housekeeping.unsent_low_stock_alerts(ctx.work, sla_seconds=ctx.settings.step_sla_seconds)


@app.task(name="fulfillment.watchdog", **RETRY)
def watchdog() -> int:
    """Re-drive orders that stopped moving with nothing pending for them."""
    ctx = get_context()
    return len(housekeeping.stuck_orders(ctx.work, sla_seconds=ctx.settings.step_sla_seconds))


@app.task(name="fulfillment.reconcile_payments", **RETRY)
def reconcile_payments() -> int:
    """Check money against orders and, where the outcome was unknown, against the gateway."""
    ctx = get_context()
    asked = reconcile.owed(ctx.work, older_than=timedelta(seconds=ctx.settings.step_sla_seconds))
    for order_id in reconcile.due(ctx.work):
        try:
            reconcile.reconcile(ctx.work, ctx.gateway, order_id)
        except PaymentUnavailable:
            break  # still unreachable: the next round tries again
    return asked


@app.task(name="fulfillment.expire_idempotency_keys", **RETRY)
def expire_idempotency_keys() -> int:
    """Drop stored responses older than their expiry."""
    return housekeeping.expire_idempotency_keys(get_context().work)


@app.task(name="fulfillment.expire_pickups", **RETRY)
def expire_pickups() -> int:
    """Cancel and refund pickup orders nobody collected within PICKUP_HOLD_DAYS."""
    ctx = get_context()
    days = ctx.settings.pickup_hold_days
    return len(expire_held_pickups(ctx.work, now=utcnow(), hold_days=days))


@app.task(name="fulfillment.expire_reservations", **RETRY)
def expire_reservations() -> int:
    """Cancel held orders not released within their hold and orders not paid within
    RESERVATION_MINUTES; their units go to the oldest backorders first."""
    ctx = get_context()
    minutes = ctx.settings.reservation_minutes
    expired = expire_held_or_unpaid(ctx.work, now=utcnow(), unpaid_minutes=minutes)
    if expired.units_back:
        for _, result in fill_backorders(ctx.work, ctx.directory, ctx.settings):
            allocation_decided(result)
    return len(expired.held) + len(expired.unpaid)


@app.task(name="fulfillment.renew_authorizations", **RETRY)
def renew_authorizations() -> int:
    """Authorise again the paid orders whose authorisation lapses within
    AUTHORIZATION_RENEW_HOURS; hold those whose card refuses. How many were looked at."""
    ctx = get_context()
    within = timedelta(hours=ctx.settings.authorization_renew_hours)
    hold_for = timedelta(hours=ctx.settings.hold_reservation_hours)
    due = renewals.due(ctx.work, now=utcnow(), within=within)
    for order_id in due:
        try:
            renewals.renew_authorization(
                ctx.work, ctx.gateway, order_id, within=within, hold_for=hold_for
            )
        except PaymentUnavailable:
            break  # still unreachable: the next round tries again
    return len(due)
