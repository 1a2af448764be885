"""The SQS consumer: each `order.placed` message starts the Celery pipeline, then is deleted.

`python -m workers.dispatcher`. A message is deleted only after the pipeline's first tasks
are on the broker and the dispatch is recorded; until then SQS will deliver it again, and
every step is idempotent, so a second delivery changes nothing. A message that cannot be
understood goes to the dead-letter queue with its reason; the loop never stops for one.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Callable
from enum import StrEnum
from types import FrameType

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.db import session_factory
from models.domain.lifecycle import OrderStatus
from models.logs import configure_logging
from models.messages import (
    MalformedMessage,
    OrderCancelled,
    OrderDelivered,
    OrderMessage,
    OrderPlaced,
    parse_message,
)
from models.orders import Order
from models.transitions import record_event
from settings import get_settings
from workers.adapters.sqs import OrdersQueue, Received

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 3.0

# Messages about a change already made: the status the order must be in for them to apply.
AFTERMATH: dict[type[OrderMessage], str] = {
    OrderCancelled: OrderStatus.CANCELLED.value,
    OrderDelivered: OrderStatus.DELIVERED.value,
}


class Handled(StrEnum):
    """What became of one message."""

    STARTED = "started"
    ALREADY_MOVING = "already_moving"
    DEAD_LETTERED = "dead_lettered"
    RETRY_LATER = "retry_later"


class Dispatcher:
    """Moves orders from SQS onto the Celery pipeline."""

    def __init__(
        self,
        queue: OrdersQueue,
        sessions: sessionmaker[Session],
        start: Callable[[OrderMessage], None],
        *,
        wait_seconds: int,
        visibility_timeout: int,
    ) -> None:
        self._queue = queue
        self._sessions = sessions
        self._start = start
        self._wait = wait_seconds
        self._visibility = visibility_timeout
        self.stopping = threading.Event()

    def _status(self, order_id: uuid.UUID) -> str | None:
        with self._sessions() as session:
            order = session.get(Order, order_id)
            return order.status if order else None

    def _record_dispatch(self, order_id: uuid.UUID) -> None:
        with self._sessions() as session, session.begin():
            first = session.execute(
                update(Order)
                .where(Order.id == order_id, Order.dispatched_at.is_(None))
                .values(dispatched_at=utcnow())
                .returning(Order.id)
            ).first()
            if first:
                record_event(session, order_id, "dispatched")

    def _dead_letter(self, message: Received, reason: str, order_id: str | None = None) -> Handled:
        self._queue.dead_letter(message, reason)
        log.error(
            "dead-lettered message %s: %s", message.message_id, reason, extra={"order_id": order_id}
        )
        return Handled.DEAD_LETTERED

    def handle(self, message: Received) -> Handled:
        """Start the work one message asks for, or say why not."""
        try:
            event = parse_message(message.body)
        except MalformedMessage as exc:
            return self._dead_letter(message, f"malformed: {exc}")
        order_id = str(event.order_id)
        status = self._status(event.order_id)
        if status is None:
            return self._dead_letter(message, f"unknown order {order_id}", order_id)
        if not isinstance(event, OrderPlaced):
            # Written in the transaction that made the change, so the status must match.
            wanted = AFTERMATH[type(event)]
            if status != wanted:
                reason = f"order {order_id} is {status}, not {wanted}"
                return self._dead_letter(message, reason, order_id)
            self._start(event)
            log.info("%s started", event.type, extra={"order_id": order_id})
            return Handled.STARTED
        if status != OrderStatus.RECEIVED:
            return Handled.ALREADY_MOVING
        self._start(event)
        self._record_dispatch(event.order_id)
        log.info("pipeline started", extra={"order_id": order_id})
        return Handled.STARTED

    def run_once(self) -> list[Handled]:
        """One long poll: handle up to ten messages, delete the handled ones in one call."""
        messages = self._queue.receive(wait_seconds=self._wait, visibility_timeout=self._visibility)
        outcomes: list[Handled] = []
        done: list[Received] = []
        for message in messages:
            try:
                outcome = self.handle(message)
            except Exception:  # the database or broker is down: SQS delivers it again later
                log.exception("could not dispatch message %s; it will return", message.message_id)
                outcome = Handled.RETRY_LATER
            outcomes.append(outcome)
            if outcome in (Handled.STARTED, Handled.ALREADY_MOVING):
                done.append(message)
        for failed in self._queue.delete(done):
            log.warning("could not delete message %s; a redelivery is harmless", failed)
        return outcomes

    def run_forever(self) -> None:
        """Poll until asked to stop; a failing poll waits a moment and tries again."""
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:  # SQS unreachable: keep the process alive and try again
                log.exception("polling SQS failed")
                self.stopping.wait(2.0)


def main() -> None:
    """Run the dispatcher with the configured queue, database and broker."""
    # Imported here so the Dispatcher class itself needs no broker configuration.
    from workers.tasks import start_pipeline  # noqa: PLC0415

    settings = get_settings()
    configure_logging(settings)
    dispatcher = Dispatcher(
        OrdersQueue.from_settings(settings, timeout=settings.sqs_wait_seconds + 10),
        session_factory(settings.require_database_url()),
        start_pipeline,
        wait_seconds=settings.sqs_wait_seconds,
        visibility_timeout=settings.sqs_visibility_timeout,
    )

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
