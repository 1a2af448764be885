"""Celery settings, all read from the one settings object."""

from __future__ import annotations

from kombu import Queue

from settings import get_settings
from workers.celery_queues import QUEUES

_settings = get_settings()
_prefix = _settings.celery_queue_prefix

broker_url = _settings.require_redis_url()
# A worker outlives any broker outage: reconnect forever, not 100 times (about 45 minutes,
# after which Celery's default ends the worker), on startup as after a loss.
broker_connection_retry = True
broker_connection_retry_on_startup = True
broker_connection_max_retries = None
# After a failover Redis may refuse a command for a while (READONLY, MISCONF): that is a
# channel error, which would otherwise shut the worker down instead of reconnecting it.
broker_channel_error_retry = True
# A step running when the connection drops finishes its work in PostgreSQL; only its ack is
# lost, and a redelivery changes nothing. Stated, because Celery 6 flips the default.
worker_cancel_long_running_tasks_on_connection_loss = False
# Longer than any task's total retry time, so an unacked task is never handed out twice early.
broker_transport_options = {"visibility_timeout": _settings.broker_visibility_timeout}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True
timezone = "UTC"
enable_utc = True

# Every task is idempotent, so redelivery after a crash is always safe.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1

# Flower and `celery inspect` need these. No "task-sent" event: it costs every publisher a
# Redis publish and Flower a message per task, only to show a task before a worker takes
# it, which the queue lengths already tell (see "Performance" in the README).
worker_send_task_events = _settings.worker_events
task_send_sent_event = False

worker_hijack_root_logger = False

task_queues = [Queue(f"{_prefix}{name}") for name in QUEUES]
task_default_queue = f"{_prefix}maintenance"
task_routes = {
    "fulfillment.allocate": {"queue": f"{_prefix}allocation"},
    "fulfillment.charge": {"queue": f"{_prefix}payments"},
    "fulfillment.charge_part": {"queue": f"{_prefix}payments"},
    "fulfillment.refund": {"queue": f"{_prefix}payments"},
    "fulfillment.refund_part": {"queue": f"{_prefix}payments"},
    "fulfillment.settle_payment": {"queue": f"{_prefix}payments"},
    "fulfillment.reconcile_payments": {"queue": f"{_prefix}payments"},
    "fulfillment.renew_authorizations": {"queue": f"{_prefix}payments"},
    "fulfillment.ship": {"queue": f"{_prefix}shipping"},
    "fulfillment.ship_part": {"queue": f"{_prefix}shipping"},
    "fulfillment.return_label": {"queue": f"{_prefix}shipping"},
    "fulfillment.notify": {"queue": f"{_prefix}notifications"},
    "fulfillment.alert_low_stock": {"queue": f"{_prefix}notifications"},
    "fulfillment.retry_backorders": {"queue": f"{_prefix}allocation"},
    "fulfillment.deliver_webhook": {"queue": f"{_prefix}webhooks"},
    "fulfillment.alert_webhook_disabled": {"queue": f"{_prefix}webhooks"},
    "fulfillment.*": {"queue": f"{_prefix}maintenance"},
}


def _every(task: str, seconds: float) -> dict[str, object]:
    # Expires before the next is sent: a worker that was down does not wake to a pile of them.
    return {"task": task, "schedule": seconds, "options": {"expires": seconds}}


beat_schedule = {
    # The guarantee behind publishing after commit: every due follow-up, every few seconds.
    "relay-outbox": _every("fulfillment.relay_outbox", _settings.outbox_relay_interval),
    "watchdog": _every("fulfillment.watchdog", _settings.watchdog_interval),
    "expire-idempotency-keys": _every("fulfillment.expire_idempotency_keys", 3600.0),
    # Pickup orders held past PICKUP_HOLD_DAYS: cancelled and refunded within the hour.
    "expire-pickups": _every("fulfillment.expire_pickups", 3600.0),
    # Held orders past HOLD_RESERVATION_HOURS, orders unpaid past RESERVATION_MINUTES.
    "expire-reservations": _every(
        "fulfillment.expire_reservations", _settings.reservation_expiry_interval
    ),
    # Card authorisations that lapse within AUTHORIZATION_RENEW_HOURS, not yet captured.
    "renew-authorizations": _every(
        "fulfillment.renew_authorizations", _settings.authorization_renew_interval
    ),
    "reconcile-payments": _every("fulfillment.reconcile_payments", _settings.reconcile_interval),
    # Stock arrives through the admin API, the CLI or a released order; PostgreSQL knows which.
    "retry-backorders": _every("fulfillment.retry_backorders", _settings.backorder_retry_interval),
    "sweep-low-stock-alerts": _every(
        "fulfillment.sweep_low_stock_alerts", _settings.low_stock_sweep_interval
    ),
}
