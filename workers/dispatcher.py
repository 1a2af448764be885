"""The dispatcher process, `python -m workers.dispatcher`; its work is in models/services."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from bootstrap import build_dispatcher, get_context
from bootstrap.logs import configure_logging
from settings import get_settings
from telemetry.processes import DISPATCHER
from telemetry.serving import serve_metrics

log = logging.getLogger(__name__)


def main() -> None:
    """Run the dispatcher until SIGTERM or SIGINT, then finish its batch and exit."""
    settings = get_settings()
    configure_logging(settings)
    serve_metrics(settings, DISPATCHER)
    dispatcher = build_dispatcher(get_context())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("dispatcher stopping (signal %d): finishing the batch it holds", signum)
        dispatcher.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("dispatcher polling %s", settings.orders_queue)
    # The loop runs beside the main thread, which waits for a stop and then gives the loop the
    # grace to record and delete the batch it holds (a long poll still open may yet return
    # one). The loop takes no batch after the stop. Past the grace the process exits anyway:
    # messages not yet deleted return to the queue when their visibility timeout ends.
    loop = threading.Thread(target=dispatcher.run_forever, name="dispatcher", daemon=True)
    loop.start()
    dispatcher.stopping.wait()
    loop.join(timeout=settings.shutdown_grace_seconds)
    if loop.is_alive():
        log.error(
            "dispatcher batch unfinished after %.0f s; SQS delivers it again",
            settings.shutdown_grace_seconds,
        )
        sys.exit(1)
    log.info("dispatcher stopped")


if __name__ == "__main__":
    main()
