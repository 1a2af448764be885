"""Dispatching: each message on the orders queue becomes follow-up rows, then is deleted.

A message is deleted only after the work it asks for is recorded as follow-up rows, in the
transaction that records the dispatch; until then SQS delivers it again, and every step is
idempotent, so a second delivery changes nothing. A message that cannot be understood goes
to the dead-letter queue with its reason; the loop never stops for one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.follow_ups import REQUEST_ID
from models.domain.lifecycle import OrderStatus
from models.domain.messages import (
    MalformedMessage,
    OrderCancelled,
    OrderDelivered,
    OrderMessage,
    OrderPlaced,
    parse_message,
)
from models.domain.tasks import ALLOCATE, SETTLE_PAYMENT
from models.ports import MessageQueue, Received
from models.store.errors import TRANSIENT_DB_ERRORS
from models.store.follow_ups import later, mail
from models.store.orders import record_event
from models.store.unit_of_work import Work
from models.tables.orders import Order

log = logging.getLogger(__name__)


def follow_message(session: Session, message: OrderMessage) -> None:
    """Record the work a queue message asks for, in the transaction that accepts the message."""
    order_id = str(message.order_id)
    if isinstance(message, OrderDelivered):
        mail(session, message.order_id, "delivered")
    elif isinstance(message, OrderCancelled):
        mail(session, message.order_id, "cancelled")
        # The one place the money of an order that will not be fulfilled is decided.
        later(session, SETTLE_PAYMENT, order_id)
    else:
        mail(session, message.order_id, "received")
        later(session, ALLOCATE, order_id)


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


@dataclass(frozen=True)
class Decision:
    """What became of one message in the batch's transaction."""

    message: Received
    outcome: Handled
    order_id: str | None = None
    reason: str = ""


class Dispatcher:
    """Moves orders from SQS onto the Celery pipeline."""

    def __init__(
        self,
        queue: MessageQueue,
        work: Work,
        *,
        wait_seconds: int,
        visibility_timeout: int,
        follow: Callable[[Session, OrderMessage], None] = follow_message,
        observe: Callable[[list[Handled]], None] = lambda _outcomes: None,
    ) -> None:
        self._queue = queue
        # Told what became of each message of a poll (the dispatcher's metrics).
        self._observe = observe
        self._work = work
        self._follow = follow
        self._wait = wait_seconds
        self._visibility = visibility_timeout
        self.stopping = threading.Event()

    def _dispatch(self, session: Session, event: OrderMessage, status: str) -> Handled:
        """Record the work the message asks for; whether it was new."""
        order_id = event.order_id
        if not isinstance(event, OrderPlaced):
            self._follow(session, event)
            return Handled.STARTED
        first = session.execute(
            update(Order)
            .where(Order.id == order_id, Order.dispatched_at.is_(None))
            .values(dispatched_at=utcnow())
            .returning(Order.id)
        ).first()
        if first is None:
            return Handled.ALREADY_MOVING
        record_event(session, order_id, "dispatched")
        if status != OrderStatus.RECEIVED:
            # Moved on before its message came (cancelled, say): nothing to fulfil, but the
            # customer is still told the order was received, as every customer is.
            mail(session, order_id, "received")
            return Handled.ALREADY_MOVING
        self._follow(session, event)
        return Handled.STARTED

    def _dead_letter(self, message: Received, reason: str, order_id: str | None = None) -> Handled:
        self._queue.dead_letter(message, reason)
        log.error(
            "dead-lettered message %s: %s", message.message_id, reason, extra={"order_id": order_id}
        )
        return Handled.DEAD_LETTERED

    def _decide(self, session: Session, message: Received) -> Decision:
        """Record what one message asks for in `session`, or say why it is to be dead-lettered."""
        try:
            event = parse_message(message.body)
        except MalformedMessage as exc:
            return Decision(message, Handled.DEAD_LETTERED, reason=f"malformed: {exc}")
        # The work it records, and the lines it logs, carry on the request it came from.
        token = REQUEST_ID.set(event.request_id)
        try:
            return self._judge(session, message, event)
        finally:
            REQUEST_ID.reset(token)

    def _judge(self, session: Session, message: Received, event: OrderMessage) -> Decision:
        order_id = str(event.order_id)
        status = session.scalar(select(Order.status).where(Order.id == event.order_id))
        wanted = AFTERMATH.get(type(event))
        if status is None:
            return Decision(message, Handled.DEAD_LETTERED, order_id, f"unknown order {order_id}")
        # Written in the transaction that made the change, so the status must match.
        if wanted is not None and status != wanted:
            reason = f"order {order_id} is {status}, not {wanted}"
            return Decision(message, Handled.DEAD_LETTERED, order_id, reason)
        outcome = self._dispatch(session, event, status)
        if outcome is Handled.STARTED:
            log.info("%s started", event.type, extra={"order_id": order_id})
        return Decision(message, outcome, order_id)

    def _handle(self, messages: list[Received]) -> list[Handled]:
        """Record what the messages ask for in one transaction, then dead-letter the useless."""
        with self._work() as session:
            decisions = [self._decide(session, message) for message in messages]
        return [self._after(decision) for decision in decisions]

    def _after(self, decision: Decision) -> Handled:
        if decision.outcome is not Handled.DEAD_LETTERED:
            return decision.outcome
        try:
            return self._dead_letter(decision.message, decision.reason, decision.order_id)
        except Exception:  # SQS is away: the message returns, and is judged again then
            log.exception("could not dead-letter message %s", decision.message.message_id)
            return Handled.RETRY_LATER

    def handle(self, message: Received) -> Handled:
        """Start the work one message asks for, or say why not."""
        return self._handle([message])[0]

    def _handle_alone(self, message: Received) -> Handled:
        try:
            return self.handle(message)
        except Exception:  # the database or broker is down: SQS delivers it again later
            log.exception("could not dispatch message %s; it will return", message.message_id)
            return Handled.RETRY_LATER

    def run_once(self) -> list[Handled]:
        """One long poll: up to ten messages in one transaction, deleted in one call.

        A batch whose transaction fails (one message the database refuses, say) is handled
        again one message at a time, so one bad message holds up none of the others; with the
        database away, every message simply returns after its visibility timeout.
        """
        messages = self._queue.receive(wait_seconds=self._wait, visibility_timeout=self._visibility)
        if not messages:
            return []
        try:
            outcomes = self._handle(messages)
        except TRANSIENT_DB_ERRORS:
            # The database is away: one at a time would only knock ten times on a closed door.
            log.exception("could not dispatch %d messages; they will return", len(messages))
            outcomes = [Handled.RETRY_LATER] * len(messages)
        except Exception:
            log.warning("could not dispatch %d messages together; one at a time", len(messages))
            outcomes = [self._handle_alone(message) for message in messages]
        done = [
            message
            for message, outcome in zip(messages, outcomes, strict=True)
            if outcome in (Handled.STARTED, Handled.ALREADY_MOVING)
        ]
        for failed in self._queue.delete(done):
            log.warning("could not delete message %s; a redelivery is harmless", failed)
        self._observe(outcomes)
        return outcomes

    def run_forever(self) -> None:
        """Poll until asked to stop; a failing poll waits a moment and tries again."""
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception:  # SQS unreachable: keep the process alive and try again
                log.exception("polling SQS failed")
                self.stopping.wait(2.0)
