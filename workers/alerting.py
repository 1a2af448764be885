"""Telling operations that stock is running low: one email per alert, however often asked."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import parseaddr

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.catalog import Product, Stock, StockAlert, StockMovement, Warehouse
from settings import Settings
from workers.adapters.email import Mailer
from workers.emails import Mail, build_message

log = logging.getLogger(__name__)

RECENT_MOVEMENTS = 5


def alert_message_id(alert_id: int, mail_from: str) -> str:
    """A Message-ID derived from the alert: a resend after a crash is the same message."""
    _, at, domain = parseaddr(mail_from)[1].rpartition("@")
    domain = domain if at and domain else "fulfillment.local"
    return f"<low-stock.{alert_id}@{domain}>"


def _movement_lines(session: Session, alert: StockAlert) -> list[str]:
    movements = session.scalars(
        select(StockMovement)
        .where(
            StockMovement.warehouse_id == alert.warehouse_id,
            StockMovement.article_number == alert.article_number,
        )
        .order_by(StockMovement.id.desc())
        .limit(RECENT_MOVEMENTS)
    ).all()
    if not movements:
        return ["  none recorded"]
    return [
        f"  {m.created_at:%Y-%m-%d %H:%M} UTC  {m.change:+d} -> {m.on_hand_after} on hand"
        f"  by {m.actor}: {m.reason}"
        for m in movements
    ]


def render_alert(session: Session, alert: StockAlert) -> Mail:
    """Subject and text of the email about a low-stock alert."""
    warehouse = session.get(Warehouse, alert.warehouse_id)
    product = session.get(Product, alert.article_number)
    stock = session.get(Stock, (alert.warehouse_id, alert.article_number))
    assert warehouse is not None
    assert product is not None
    on_hand, reserved = (stock.on_hand, stock.reserved) if stock else (0, 0)
    sellable = on_hand - reserved
    subject = (
        f"Low stock: {alert.article_number} at {warehouse.code}: "
        f"{sellable} left (threshold {alert.threshold})"
    )
    text = "\n".join(
        [
            f"{product.name} ({alert.article_number}) is running low at "
            f"{warehouse.name} ({warehouse.code}).",
            "",
            f"Sellable: {sellable} (on hand {on_hand}, reserved for orders {reserved})",
            f"Threshold: {alert.threshold}",
            f"Below the threshold since: {alert.fired_at:%Y-%m-%d %H:%M} UTC",
            "",
            "Latest stock changes:",
            *_movement_lines(session, alert),
            "",
        ]
    )
    return Mail(subject, text)


def send_low_stock_alert(
    sessions: sessionmaker[Session], mailer: Mailer, settings: Settings, alert_id: int
) -> bool:
    """Email operations about the alert unless that was done; MailTransient/MailRejected raise."""
    with sessions() as session, session.begin():
        # The row lock makes a concurrent duplicate wait here and then find the mail sent.
        alert = session.scalars(
            select(StockAlert).where(StockAlert.id == alert_id).with_for_update()
        ).one_or_none()
        if alert is None:
            raise LookupError(f"no stock alert {alert_id}")
        if alert.notified_at is not None:
            return False
        # Restocked before the mail went out: there is nothing left to warn about.
        if alert.cleared_at is not None:
            log.info("low-stock alert %s cleared before it was sent", alert_id)
            return False
        message: EmailMessage = build_message(
            render_alert(session, alert),
            sender=settings.mail_from,
            recipient=settings.operations_email,
            msgid=alert_message_id(alert.id, settings.mail_from),
        )
        mailer.send(message)
        alert.notified_at = utcnow()
    log.info("low-stock alert %s sent to operations", alert_id)
    return True
