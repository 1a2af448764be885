"""The notify step: one email per (order, kind), sent outside any lock, recorded at once.

The sender claims the notification row in one statement, sends with nothing locked, and
records `sent` in another statement the moment the server has accepted. SMTP cannot be
exactly-once: a worker that dies between the server's acceptance and that record leaves a
claim that another sender takes over once it is older than any send can take, and the mail
goes out again with the same Message-ID, derived from (order, kind), so the duplicate is
recognisably the same message. That moment is the only way to get two.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import CURRENT, TryLater
from models.domain.links import order_link
from models.domain.mail import OPERATIONS_KINDS, base_kind, build_message, message_id
from models.ports import MailRejected, MailRenderer, MailTransient, Post
from models.store.follow_ups import finish_current
from models.store.follow_ups import mail as mail_later
from models.store.mail_claims import claim, record_sent
from models.store.mail_views import build_view
from models.store.unit_of_work import Work
from models.tables.fulfilment import Notification
from settings import Settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 30
# Operations hear of a customer mail that could not be sent at all.
MAIL_FAILED = "mail_failed"


class Notified(StrEnum):
    """What the notify step did."""

    SENT = "sent"
    ALREADY_SENT = "already_sent"
    REJECTED = "rejected"
    FAILED = "failed"


def claim_timeout(settings: Settings) -> timedelta:
    """How old a claim must be before it counts as left by a dead sender.

    Longer than a send takes (each SMTP step is bounded by SMTP_TIMEOUT), short enough that
    a mail whose sender died goes out again well within a minute.
    """
    return timedelta(seconds=settings.smtp_timeout + 15)


def _claim(
    work: Work, renderer: MailRenderer, settings: Settings, order_id: uuid.UUID, kind: str
) -> tuple[EmailMessage, int] | Notified:
    """Take the row for sending and build the message; or what became of it already.

    One statement creates the row if it is new, claims it and reads what the mail shows.
    """
    now = utcnow()
    with work.single_statements() as connection:
        claimed = claim(
            connection,
            order_id=order_id,
            kind=kind,
            recipient=settings.operations_email if base_kind(kind) in OPERATIONS_KINDS else None,
            message_id=message_id(order_id, kind, settings.mail_from),
            now=now,
            stale_before=now - claim_timeout(settings),
        )
        if claimed is None:
            return _not_claimed(work, order_id, kind, settings)
        url = _order_url(settings, order_id, now)
        view = build_view(connection, claimed, order_id, kind, url)
    message = build_message(
        renderer.render(view, kind),
        sender=settings.mail_from,
        recipient=claimed.recipient,
        msgid=claimed.message_id,
    )
    return message, claimed.attempts


def _order_url(settings: Settings, order_id: uuid.UUID, now: datetime) -> str:
    secret = settings.order_token_secret.get_secret_value()
    return order_link(settings.public_base_url, secret, order_id, now, settings.order_link_days)


def _not_claimed(work: Work, order_id: uuid.UUID, kind: str, settings: Settings) -> Notified:
    """What became of a mail another sender holds, or held: TryLater while it may still send."""
    key = f"{order_id}:{kind}"
    with work() as session:
        found = session.execute(
            select(Notification.status, Notification.claimed_at).where(
                Notification.dedupe_key == key
            )
        ).first()
        if found is None:  # the claim creates the row of any order that exists
            raise LookupError(f"no order {order_id}")
        status, held_since = found
        if status == "sending" and held_since is not None:
            # Another sender holds it now: look again once its claim could have run out.
            runs_out = held_since + claim_timeout(settings) - utcnow()
            raise TryLater("another sender holds the mail", delay=runs_out.total_seconds() + 1)
        finish_current(session)
    return Notified.ALREADY_SENT if status == "sent" else Notified(str(status))


def _end(
    work: Work, order_id: uuid.UUID, kind: str, *, status: str, error: str | None = None
) -> None:
    """Record what became of the send: once more on a fresh connection if the first died.

    The mail may be out already; a lost record would send it again once the claim runs
    out. A connection that died under the transaction committed nothing, so trying again
    is safe (a connection used within the last second is handed out without a ping).
    """
    try:
        _record_end(work, order_id, kind, status=status, error=error)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        _record_end(work, order_id, kind, status=status, error=error)


def _record_end(
    work: Work, order_id: uuid.UUID, kind: str, *, status: str, error: str | None
) -> None:
    if status == "sent":
        _record_sent(work, order_id, kind)
        return
    key = f"{order_id}:{kind}"
    with work() as session:
        session.execute(
            update(Notification)
            .where(Notification.dedupe_key == key, Notification.status == "sending")
            .values(status=status, last_error=error[:500] if error else None, sent_at=None)
        )
        if status == "failed" and base_kind(kind) not in OPERATIONS_KINDS:
            mail_later(session, order_id, MAIL_FAILED)
        finish_current(session)


def _record_sent(work: Work, order_id: uuid.UUID, kind: str) -> None:
    """Sent, on the timeline and the task's row done: one statement, nothing follows it."""
    current = CURRENT.get()
    follow_up = current.id if current is not None and not current.finished else None
    with work.single_statements() as connection:
        record_sent(connection, order_id=order_id, kind=kind, follow_up=follow_up, now=utcnow())
    if current is not None:
        current.finished = True


def send_notification(
    work: Work, post: Post, settings: Settings, order_id: uuid.UUID, kind: str
) -> Notified:
    """Send the `kind` email for the order unless it was sent; TryLater while the server is away."""
    claimed = _claim(work, post.renderer, settings, order_id, kind)
    if isinstance(claimed, Notified):
        return claimed
    message, attempts = claimed
    key = f"{order_id}:{kind}"
    try:
        post.mailer.send(message)
    except MailRejected as exc:
        _end(work, order_id, kind, status="rejected", error=str(exc))
        log.error("mail rejected: %s", exc, extra={"order_id": str(order_id), "kind": kind})
        return Notified.REJECTED
    except MailTransient as exc:
        if attempts >= MAX_ATTEMPTS:
            _end(work, order_id, kind, status="failed", error=str(exc))
            log.error("mail failed for good: %s", exc, extra={"order_id": str(order_id)})
            return Notified.FAILED
        with work() as session:
            # Given back, so the next attempt (or a sender in another worker) can claim it.
            session.execute(
                update(Notification)
                .where(Notification.dedupe_key == key, Notification.status == "sending")
                .values(status="pending", last_error=str(exc)[:500])
            )
        raise TryLater(str(exc), delay=backoff(attempts, cap=STEP_CAP_SECONDS)) from exc
    _end(work, order_id, kind, status="sent")
    log.debug("mail sent: %s", kind, extra={"order_id": str(order_id)})
    return Notified.SENT
