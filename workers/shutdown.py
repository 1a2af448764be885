"""A worker's SIGTERM: finish the tasks it holds within SHUTDOWN_GRACE_SECONDS, then give back.

Celery answers SIGTERM with a warm shutdown: it stops consuming, lets every running task end
and exits 0. It waits for as long as that takes. Here a timer bounds the wait: once the grace
is over the worker is sent SIGQUIT, Celery's cold shutdown, which cancels what still runs;
closing its broker channel puts every task it had not acknowledged back on its queue (tasks
are acknowledged late, and each is idempotent, so running one again is safe). A task it had
received but not started (one waiting for its countdown, say) goes back the same way.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from settings import get_settings

log = logging.getLogger(__name__)


def _give_back(grace: float) -> None:
    log.warning("tasks still running %.0f s after SIGTERM: giving them back to the queue", grace)
    # To the main thread itself, where Celery's handler runs and its shutdown waits.
    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGQUIT)


def bound_the_warm_shutdown(how: str = "", **_: Any) -> None:
    """On a warm shutdown (SIGTERM), start the grace timer; a cold one needs none."""
    if how != "Warm":
        return
    grace = get_settings().shutdown_grace_seconds
    log.info("worker stopping: no new tasks; running ones have %.0f s to finish", grace)
    timer = threading.Timer(grace, _give_back, args=(grace,))
    timer.daemon = True
    timer.start()
