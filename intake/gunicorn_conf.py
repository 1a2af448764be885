"""Gunicorn's settings for the intake: `gunicorn -c python:intake.gunicorn_conf ...`.

Compose, `make run` and the README start the intake with it, so SIGTERM means the same
everywhere: the arbiter stops accepting, each worker finishes the requests it holds for up
to SHUTDOWN_GRACE_SECONDS (then the arbiter kills it), and a worker that exits hands on the
SQS messages its background publisher still holds. Processes, threads and the address stay
on the command line: they differ between a container and a laptop.
"""

from __future__ import annotations

from typing import Any

from intake.runtime import finish_publishing
from intake.serving import child_exit, on_starting
from settings import get_settings

_settings = get_settings()

graceful_timeout = _settings.shutdown_grace_seconds
# gunicorn's own lines (booting, a worker's timeout) in the project's log format.
logger_class = "bootstrap.gunicorn_logs.Logger"


# The metrics folder's hooks (intake/serving.py): gunicorn reads them from this module.
__all__ = ["child_exit", "graceful_timeout", "logger_class", "on_starting", "worker_exit"]


def worker_exit(_server: Any, worker: Any) -> None:
    """Send what the exiting worker's publisher holds; the relay covers what does not go."""
    app = getattr(worker, "wsgi", None)
    if app is not None:
        finish_publishing(app, timeout=_settings.sqs_publish_timeout)
