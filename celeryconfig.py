"""Celery settings, all read from the one settings object."""

from __future__ import annotations

from kombu import Queue

from settings import get_settings
from workers.queue_names import QUEUES

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

# Flower and `celery inspect` need these.
worker_send_task_events = True
task_send_sent_event = True

worker_hijack_root_logger = False

task_queues = [Queue(f"{_prefix}{name}") for name in QUEUES]
task_default_queue = f"{_prefix}maintenance"
task_routes = {
    "fulfillment.allocate": {"queue": f"{_prefix}allocation"},
    "fulfillment.charge": {"queue": f"{_prefix}payments"},
    "fulfillment.refund": {"queue": f"{_prefix}payments"},
    "fulfillment.reconcile_abandoned_payments": {"queue": f"{_prefix}payments"},
    "fulfillment.ship": {"queue": f"{_prefix}shipping"},
    "fulfillment.notify": {"queue": f"{_prefix}notifications"},
    "fulfillment.alert_low_stock": {"queue": f"{_prefix}notifications"},
    "fulfillment.retry_backorders": {"queue": f"{_prefix}allocation"},
    "fulfillment.*": {"queue": f"{_prefix}maintenance"},
}

beat_schedule = {
    "relay-outbox": {
        "task": "fulfillment.relay_outbox",
        "schedule": _settings.outbox_relay_interval,
    },
    "watchdog": {"task": "fulfillment.watchdog", "schedule": _settings.watchdog_interval},
    "expire-idempotency-keys": {"task": "fulfillment.expire_idempotency_keys", "schedule": 3600.0},
    "reconcile-abandoned-payments": {
        "task": "fulfillment.reconcile_abandoned_payments",
        "schedule": 600.0,
    },
    # Stock arrives through the admin API, the CLI or a released order; PostgreSQL knows which.
    "retry-backorders": {
        "task": "fulfillment.retry_backorders",
        "schedule": _settings.backorder_retry_interval,
    },
    "sweep-low-stock-alerts": {
        "task": "fulfillment.sweep_low_stock_alerts",
        "schedule": _settings.low_stock_sweep_interval,
    },
}
