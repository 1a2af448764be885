"""The notify step: one email per (order, kind), however often the task runs."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.fulfilment import Notification
from models.orders import Order
from models.transitions import record_event
from settings import Settings
from workers.adapters.email import Mailer, MailRejected, MailTransient
from workers.emails import OPERATIONS_KINDS, build_message, message_id, render

log = logging.getLogger(__name__)


class Notified(StrEnum):
    """What the notify step did."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    REJECTED = "rejected"


def _claim(session: Session, order: Order, kind: str, settings: Settings) -> None:
    session.execute(
        insert(Notification)
        .values(
            order_id=order.id,
            kind=kind,
            dedupe_key=f"{order.id}:{kind}",
            recipient=settings.operations_email
            if kind in OPERATIONS_KINDS
            else order.customer_email,
            message_id=message_id(order.id, kind, settings.mail_from),
            status="pending",
            attempts=0,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )


def send_notification(
    sessions: sessionmaker[Session],
    mailer: Mailer,
    settings: Settings,
    order_id: uuid.UUID,
    kind: str,
) -> Notified:
    """Send the `kind` email for the order unless it was sent; MailTransient propagates."""
    with sessions() as session, session.begin():
        order = session.get(Order, order_id)
        if order is None:
            raise LookupError(f"no order {order_id}")
        _claim(session, order, kind, settings)
    transient: MailTransient | None = None
    with sessions() as session, session.begin():
        # The row lock makes a concurrent duplicate wait here and then find the mail sent.
        note = session.scalars(
            select(Notification)
            .where(Notification.dedupe_key == f"{order_id}:{kind}")
            .with_for_update()
        ).one()
        if note.status == "sent":
            return Notified.ALREADY_SENT
        if note.status == "rejected":
            return Notified.REJECTED
        order = session.get(Order, order_id)
        assert order is not None
        mail = render(session, order, kind)
        message = build_message(
            mail, sender=settings.mail_from, recipient=note.recipient, msgid=note.message_id
        )
        note.attempts += 1
        try:
            mailer.send(message)
        except MailRejected as exc:
            note.status, note.last_error = "rejected", str(exc)[:500]
            log.error("mail rejected: %s", exc, extra={"order_id": str(order_id), "kind": kind})
            return Notified.REJECTED
        except MailTransient as exc:
            note.last_error = str(exc)[:500]
            transient = exc
        else:
            note.status, note.sent_at = "sent", utcnow()
            record_event(session, order_id, "notified", detail={"kind": kind})
    if transient is not None:
        raise transient
    log.info("mail sent: %s", kind, extra={"order_id": str(order_id)})
    return Notified.SENT
