"""Flower with its /metrics behind the login, the workers known on first load, every queue shown.

Three amendments to Flower 2.2, made in this process before it starts:

- Flower serves /metrics (its Prometheus view of the workers and tasks) to anyone, whatever
  its basic auth says. Here it asks for the login as the rest of Flower does (its own pages
  use `tornado.web.authenticated` too); /healthcheck stays open for the orchestrator.
- Flower learns of workers two ways, both after the page asked: /api/workers answers from an
  inspection started when Flower starts (or on `?refresh=1`), which a first request beats, and
  which never sees a worker that started later; the dashboard answers from worker events, which
  arrive with a worker's next heartbeat. So a first look showed no workers. Here both wait for
  an inspection whenever it has not yet heard from every live worker, and the dashboard is
  told of each worker that answered.
- The broker page and /api/queues/length count the queues the known workers consume, so a
  queue that no running worker takes (its workers down: exactly when its length matters)
  disappeared. Here they count every configured queue as well.

`python -m workers.flower --port=5555 ...` takes `celery flower`'s options.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import tornado.web
from celery.__main__ import main as celery
from flower.api import workers as workers_api
from flower.views import BaseHandler, monitor
from flower.views import workers as workers_view

# Celery's worker heartbeat, in seconds: how long the dashboard trusts an inspection's answer.
HEARTBEAT_SECONDS = 2.0

Handler = Callable[..., Any]


def protect_metrics() -> None:
    """Make Flower's /metrics ask for the login, in this process."""
    monitor.Metrics.get = tornado.web.authenticated(monitor.Metrics.get)


def _live_in_events(app: Any) -> set[str]:
    return {name for name, worker in app.events.state.workers.items() if worker.alive}


async def know_the_workers(app: Any) -> None:
    """Inspect the workers unless every live one has answered; tell the dashboard of them."""
    if not app.workers or _live_in_events(app) - set(app.workers):
        await app.update_workers()
    state, now = app.events.state, time.time()
    for name in set(app.workers) - set(state.workers):
        # The event the worker sent when it started, which this Flower did not see.
        online = {"type": "worker-online", "hostname": name, "freq": HEARTBEAT_SECONDS}
        state.event({**online, "timestamp": now, "local_received": now, "clock": 0})


def _knowing_the_workers(handler: Handler) -> Handler:
    async def get(self: Any, *args: Any) -> None:
        await know_the_workers(self.application)
        await handler(self, *args)

    return tornado.web.authenticated(get)


def list_workers_on_first_load() -> None:
    """Make /api/workers and the dashboard wait for the workers, in this process."""
    workers_api.ListWorkers.get = _knowing_the_workers(workers_api.ListWorkers.get)
    workers_view.WorkersView.get = _knowing_the_workers(workers_view.WorkersView.get)


def show_every_queue() -> None:
    """Make the broker page and /api/queues/length count every configured queue too."""
    consumed = BaseHandler.get_active_queue_names

    def every_queue(self: Any) -> list[str]:
        configured = {queue.name for queue in self.capp.conf.task_queues or [] if queue.name}
        return sorted(set(consumed(self)) | configured)

    BaseHandler.get_active_queue_names = every_queue


def main() -> None:
    """`celery -A workers.app flower` with the options given, amended as above."""
    protect_metrics()
    list_workers_on_first_load()
    show_every_queue()
    sys.argv = ["celery", "-A", "workers.app", "flower", *sys.argv[1:]]
    celery()


if __name__ == "__main__":
    main()
