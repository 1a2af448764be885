"""The webhooks queue's tasks: one delivery attempt, and operations told of a disabled
subscription. Both start from follow-up rows (workers/step_task.py)."""

from __future__ import annotations

from bootstrap import get_context
from models.domain import tasks as names
from models.services.webhook_alert import alert_webhook_disabled
from models.services.webhooks import deliver_webhook
from workers.app import app
from workers.tasks import STEP


@app.task(name=names.DELIVER_WEBHOOK, **STEP)
def deliver_webhook_task(delivery_id: int) -> str:
    """POST one event to one subscriber, signed; record the attempt in its log."""
    ctx = get_context()
    return deliver_webhook(ctx.work, ctx.settings, int(delivery_id))


@app.task(name=names.ALERT_WEBHOOK_DISABLED, **STEP)
def alert_webhook_disabled_task(subscription_id: int) -> bool:
    """Tell operations, once, that a subscription was disabled for failing."""
    ctx = get_context()
    return alert_webhook_disabled(ctx.work, ctx.mailer, ctx.settings, int(subscription_id))
