"""Thin Celery tasks: decode ids, call the step, map failures to retry or fail, enqueue the next."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Task

from models.domain.backoff import backoff
from models.messages import OrderCancelled, OrderDelivered, OrderMessage
from workers import maintenance, reconciling
from workers.adapters.email import MailTransient
from workers.adapters.payments import PaymentUnavailable
from workers.adapters.sqs import OrdersQueue
from workers.alerting import send_low_stock_alert
from workers.allocating import Allocated, AllocationContended, allocate_order, fill_backorders
from workers.app import app
from workers.charging import Charged, charge_order, give_up
from workers.context import get_context
from workers.errors import TRANSIENT_DB_ERRORS
from workers.notifying import send_notification
from workers.refunding import Refunded, refund_order
from workers.shipping import Shipped, ship_order

log = logging.getLogger(__name__)

# Retries stay far inside the broker's visibility timeout: 8 tries, at most 60 s apart.
RETRY: dict[str, Any] = {
    "autoretry_for": (*TRANSIENT_DB_ERRORS, AllocationContended),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}


FOLLOW_UP = {
    Allocated.REJECTED: "rejected",
    Allocated.BACKORDERED: "backordered",
}


@app.task(name="fulfillment.allocate", **RETRY)
def allocate(order_id: str) -> str:
    """Reserve stock for the order, then charge it, hold it, or tell the customer why not."""
    ctx = get_context()
    result = allocate_order(ctx.sessions, ctx.directory, ctx.settings, uuid.UUID(order_id))
    if result.outcome is Allocated.ALLOCATED:
        charge.delay(order_id)
    elif kind := FOLLOW_UP.get(result.outcome):
        notify.delay(order_id, kind)
    for alert_id in result.alert_ids:
        alert_low_stock.delay(alert_id)
    return result.outcome.value


@app.task(name="fulfillment.retry_backorders", **RETRY)
def retry_backorders() -> int:
    """Give arriving stock to held orders, oldest first; how many could now be allocated."""
    ctx = get_context()
    allocated = 0
    for order_id, result in fill_backorders(ctx.sessions, ctx.directory, ctx.settings):
        for alert_id in result.alert_ids:
            alert_low_stock.delay(alert_id)
        if result.outcome is Allocated.ALLOCATED:
            allocated += 1
            notify.delay(str(order_id), "back_in_stock")
            charge.delay(str(order_id))
    return allocated


@app.task(
    name="fulfillment.alert_low_stock",
    **{**RETRY, "autoretry_for": (*TRANSIENT_DB_ERRORS, MailTransient)},
)
def alert_low_stock(alert_id: int) -> bool:
    """Tell operations, once, that a product is running low in a warehouse."""
    ctx = get_context()
    return send_low_stock_alert(ctx.sessions, ctx.mailer, ctx.settings, alert_id)


@app.task(name="fulfillment.sweep_low_stock_alerts", **RETRY)
def sweep_low_stock_alerts() -> int:
    """Send alerts opened outside the pipeline (stock set by an admin) or whose send was lost."""
    ids = maintenance.unsent_low_stock_alerts(get_context().sessions)
    for alert_id in ids:
        alert_low_stock.delay(alert_id)
    return len(ids)


@app.task(name="fulfillment.charge", bind=True, **RETRY)
def charge(self: Task[Any, Any], order_id: str) -> str:
    """Take payment; retry what is transient, give up cleanly when attempts run out."""
    ctx = get_context()
    key = uuid.UUID(order_id)
    try:
        outcome = charge_order(ctx.sessions, ctx.gateway, key)
    except PaymentUnavailable as exc:
        if self.request.retries < RETRY["max_retries"]:
            raise self.retry(exc=exc, countdown=backoff(self.request.retries, cap=60)) from exc
        outcome = give_up(ctx.sessions, ctx.gateway, key, str(exc))
    _after_charge(order_id, outcome)
    return outcome.value


def _after_charge(order_id: str, outcome: Charged) -> None:
    if outcome is Charged.PAID:
        notify.delay(order_id, "paid")
        ship.delay(order_id)
    elif outcome is Charged.REFUND_NEEDED:
        refund.delay(order_id)
    elif outcome in (Charged.DECLINED, Charged.ABANDONED):
        notify.delay(order_id, "payment_failed")
    if outcome is Charged.ABANDONED:
        # The customer hears it failed; operations hear the gateway stayed unreachable.
        notify.delay(order_id, "payment_abandoned")


@app.task(name="fulfillment.ship", **RETRY)
def ship(order_id: str) -> str:
    """Create the shipments, then tell the customer how to track them."""
    ctx = get_context()
    outcome = ship_order(ctx.sessions, ctx.carriers, uuid.UUID(order_id))
    if outcome is Shipped.SHIPPED:
        notify.delay(order_id, "shipped")
    return outcome.value


@app.task(
    name="fulfillment.notify",
    **{**RETRY, "autoretry_for": (*TRANSIENT_DB_ERRORS, MailTransient)},
)
def notify(order_id: str, kind: str) -> str:
    """Send one email about the order, once."""
    ctx = get_context()
    return send_notification(
        ctx.sessions, ctx.mailer, ctx.settings, uuid.UUID(order_id), kind
    ).value


def start_pipeline(message: OrderMessage) -> None:
    """Start what the message asks for: fulfil, refund a cancellation, or announce a delivery."""
    order_id = str(message.order_id)
    if isinstance(message, OrderDelivered):
        notify.delay(order_id, "delivered")
        return
    if isinstance(message, OrderCancelled):
        notify.delay(order_id, "cancelled")
        refund.delay(order_id)
        return
    notify.delay(order_id, "received")
    allocate.delay(order_id)


@app.task(name="fulfillment.refund", bind=True, **RETRY)
def refund(self: Task[Any, Any], order_id: str) -> str:
    """Give a cancelled order's money back, once; retry while the gateway is unreachable."""
    ctx = get_context()
    try:
        outcome = refund_order(ctx.sessions, ctx.gateway, uuid.UUID(order_id))
    except PaymentUnavailable as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, cap=60)) from exc
    if outcome is Refunded.REFUNDED:
        notify.delay(order_id, "refunded")
    return outcome.value


STEPS = {"allocate": allocate, "charge": charge, "ship": ship}


@app.task(name="fulfillment.relay_outbox", **RETRY)
def relay_outbox() -> int:
    """Publish outbox rows the intake could not."""
    ctx = get_context()
    queue = OrdersQueue.from_settings(ctx.settings, timeout=ctx.settings.sqs_publish_timeout)
    return maintenance.relay_outbox(
        ctx.sessions, queue, grace_seconds=ctx.settings.outbox_relay_grace_seconds
    )


@app.task(name="fulfillment.watchdog", **RETRY)
def watchdog() -> int:
    """Re-dispatch orders and emails that stopped moving; every step is idempotent."""
    ctx = get_context()
    sla = ctx.settings.step_sla_seconds
    stuck = maintenance.stuck_orders(ctx.sessions, sla_seconds=sla)
    for order_id, step in stuck:
        STEPS[step].delay(str(order_id))
    unsent = maintenance.unsent_notifications(ctx.sessions, sla_seconds=sla)
    for order_id, kind in unsent:
        notify.delay(str(order_id), kind)
    refunds = maintenance.pending_refunds(ctx.sessions, sla_seconds=sla)
    for order_id in refunds:
        refund.delay(str(order_id))
    return len(stuck) + len(unsent) + len(refunds)


@app.task(name="fulfillment.reconcile_abandoned_payments", **RETRY)
def reconcile_abandoned_payments() -> int:
    """Refund any charge the gateway took for a payment we gave up on; how many were found."""
    ctx = get_context()
    found = 0
    for order_id in reconciling.due(ctx.sessions):
        try:
            late = reconciling.reconcile(ctx.sessions, ctx.gateway, order_id)
        except PaymentUnavailable:
            break  # still unreachable: the next round tries again
        if late:
            found += 1
            refund.delay(str(order_id))
            notify.delay(str(order_id), "charged_after_abandon")
    return found


@app.task(name="fulfillment.expire_idempotency_keys", **RETRY)
def expire_idempotency_keys() -> int:
    """Drop stored responses older than their expiry."""
    return maintenance.expire_idempotency_keys(get_context().sessions)
