"""Flower with its /metrics behind the same login as every other page.

Flower serves /metrics (its Prometheus view of the workers and tasks) to anyone, whatever
its basic auth says. Here that view asks for the login as the rest of Flower does (its own
pages use `tornado.web.authenticated` too); /healthcheck stays open for the orchestrator.

`python -m workers.flower --port=5555 ...` takes `celery flower`'s options.
"""

from __future__ import annotations

import sys

import tornado.web
from celery.__main__ import main as celery
from flower.views import monitor


def protect_metrics() -> None:
    """Make Flower's /metrics ask for the login, in this process."""
    monitor.Metrics.get = tornado.web.authenticated(monitor.Metrics.get)


def main() -> None:
    """`celery -A workers.app flower` with the options given, /metrics protected."""
    protect_metrics()
    sys.argv = ["celery", "-A", "workers.app", "flower", *sys.argv[1:]]
    celery()


if __name__ == "__main__":
    main()
