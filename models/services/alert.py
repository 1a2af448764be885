"""Telling operations that stock is running low: one email per alert, however often asked."""

from __future__ import annotations

import logging
from email.message import EmailMessage

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.mail import Mail, build_message, derived_message_id
from models.ports import Mailer, MailRejected, MailTransient
from models.services.notify import claim_timeout
from models.store.follow_ups import finish_current
from models.store.unit_of_work import Work
from models.tables.catalog import Product, Stock, StockAlert, StockMovement, Warehouse
from settings import Settings

log = logging.getLogger(__name__)

RECENT_MOVEMENTS = 5
MAX_ATTEMPTS = 30


def alert_message_id(alert_id: int, mail_from: str) -> str:
    """The Message-ID of the mail about the alert."""
    return derived_message_id(f"low-stock.{alert_id}", mail_from)


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


def _claim(work: Work, settings: Settings, alert_id: int) -> tuple[EmailMessage, int] | None:
    """Take the alert for sending and build its mail; None if there is nothing to send."""
    now = utcnow()
    stale = now - claim_timeout(settings)
    with work() as session:
        if session.get(StockAlert, alert_id) is None:
            raise LookupError(f"no stock alert {alert_id}")
        claimed = session.execute(
            update(StockAlert)
            .where(
                StockAlert.id == alert_id,
                StockAlert.notified_at.is_(None),
                StockAlert.failed_at.is_(None),
                # Restocked before the mail went out: there is nothing left to warn about.
                StockAlert.cleared_at.is_(None),
                or_(StockAlert.claimed_at.is_(None), StockAlert.claimed_at < stale),
            )
            .values(claimed_at=now, attempts=StockAlert.attempts + 1)
            .returning(StockAlert.attempts)
        ).scalar()
        if claimed is None:
            finish_current(session)
            return None
        alert = session.get(StockAlert, alert_id)
        assert alert is not None
        message = build_message(
            render_alert(session, alert),
            sender=settings.mail_from,
            recipient=settings.operations_email,
            msgid=alert_message_id(alert.id, settings.mail_from),
        )
    return message, int(claimed)


def _end(work: Work, alert_id: int, **values: object) -> None:
    with work() as session:
        session.execute(update(StockAlert).where(StockAlert.id == alert_id).values(**values))
        finish_current(session)


def send_low_stock_alert(work: Work, mailer: Mailer, settings: Settings, alert_id: int) -> bool:
    """Email operations about the alert unless that was done; TryLater while the server is away.

    Claimed, sent with nothing locked (a restock never waits on the mail server), recorded.
    """
    claimed = _claim(work, settings, alert_id)
    if claimed is None:
        return False
    message, attempts = claimed
    try:
        mailer.send(message)
    except MailRejected as exc:
        _end(work, alert_id, failed_at=utcnow(), last_error=str(exc)[:500])
        log.error("low-stock alert %s refused for good: %s", alert_id, exc)
        return False
    except MailTransient as exc:
        if attempts >= MAX_ATTEMPTS:
            _end(work, alert_id, failed_at=utcnow(), last_error=str(exc)[:500])
            log.error("low-stock alert %s failed for good: %s", alert_id, exc)
            return False
        _end_claim = {"claimed_at": None, "last_error": str(exc)[:500]}
        with work() as session:
            session.execute(
                update(StockAlert).where(StockAlert.id == alert_id).values(**_end_claim)
            )
        raise TryLater(str(exc), delay=backoff(attempts, cap=STEP_CAP_SECONDS)) from exc
    _end(work, alert_id, notified_at=utcnow())
    log.info("low-stock alert %s sent to operations", alert_id)
    return True
