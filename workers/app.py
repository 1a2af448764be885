"""The Celery application: `celery -A workers.app worker`."""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import celeryd_after_setup, setup_logging, worker_shutting_down

from bootstrap.logs import configure_logging
from settings import get_settings
from workers import metrics  # noqa: F401 - serves each worker's metrics (its signals)
from workers.broker import serve_redis_urls
from workers.pauses import leave_paused_queues
from workers.shutdown import bound_the_warm_shutdown

# Before any broker connection: a Redis restart must not take a worker down (workers/broker.py).
serve_redis_urls()
app = Celery("fulfillment", include=["workers.tasks", "workers.webhook_tasks"])
app.config_from_object("celeryconfig")
# SIGTERM lets running tasks finish, for SHUTDOWN_GRACE_SECONDS at most (workers/shutdown.py).
worker_shutting_down.connect(bound_the_warm_shutdown)


@setup_logging.connect
def _logging(**_: Any) -> None:
    # Connecting here stops Celery from installing its own handlers over ours.
    configure_logging(get_settings())


@celeryd_after_setup.connect
def _paused_queues(sender: str, instance: Any, **_: Any) -> None:
    # Before the worker consumes anything: a queue paused by operations stays untouched.
    leave_paused_queues(sender, instance.app.amqp.queues, get_settings())
