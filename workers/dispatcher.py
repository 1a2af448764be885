"""The dispatcher process, `python -m workers.dispatcher`; its work is in models/services."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from bootstrap import build_dispatcher, get_context
from bootstrap.logs import configure_logging
from settings import get_settings
from telemetry.processes import DISPATCHER
from telemetry.serving import serve_metrics

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 3.0


def main() -> None:
    """Run the dispatcher with the configured queue, database and broker."""
    settings = get_settings()
    configure_logging(settings)
    serve_metrics(settings, DISPATCHER)
    dispatcher = build_dispatcher(get_context())

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("dispatcher stopping (signal %d)", signum)
        dispatcher.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("dispatcher polling %s", settings.orders_queue)
    # The loop runs beside the main thread so a stop need not wait out a 20 s long poll:
    # messages taken but not yet handled simply return to the queue when their time is up.
    loop = threading.Thread(target=dispatcher.run_forever, name="dispatcher", daemon=True)
    loop.start()
    dispatcher.stopping.wait()
    loop.join(timeout=STOP_GRACE_SECONDS)


if __name__ == "__main__":
    main()
