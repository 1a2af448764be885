"""A delivery's life in the database: claimed for an attempt, settled with its answer.

Each step is a short transaction of its own; the POST between them holds nothing. Deliveries
of one order to one subscription go in the order their events happened: a delivery waits
while an earlier one of the same order is unfinished, and the earlier one, when it ends,
asks for the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.tasks import ALERT_WEBHOOK_DISABLED, DELIVER_WEBHOOK
from models.domain.webhooks import PENDING, event_body
from models.store.follow_ups import later
from models.tables.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

# Why a claim sends nothing.
ENDED = "ended"  # no such delivery, or it already ended
PARKED = "parked"  # its subscription is disabled: it waits until the subscription is enabled
WAITS = "waits"  # an earlier event of the order is not delivered yet: that one asks for this
RUNNING = "running"  # an attempt is on the wire (a second copy of the task): try after it


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for one attempt: everything the POST needs."""

    delivery_id: int
    subscription_id: int
    order_id: uuid.UUID
    url: str
    secret: str
    event_id: str
    body: bytes
    attempt: int


def _earlier_unfinished(session: Session, delivery: WebhookDelivery) -> int | None:
    # Locked, so an earlier delivery that is ending either is seen ending here or sees this
    # delivery's follow-up finished and asks for it again (`_ask_for_next`).
    return session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.subscription_id == delivery.subscription_id,
            WebhookDelivery.order_id == delivery.order_id,
            WebhookDelivery.id < delivery.id,
            WebhookDelivery.status == PENDING,
        )
        .limit(1)
        .with_for_update()
    )


def claim(session: Session, delivery_id: int, *, lease: timedelta) -> Claimed | str:
    """Take the delivery for an attempt, or say why not (ENDED, PARKED, WAITS, RUNNING)."""
    now = utcnow()
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update()
    )
    if delivery is None or delivery.status != PENDING:
        return ENDED
    if delivery.claimed_at is not None and delivery.claimed_at > now - lease:
        return RUNNING
    subscription = session.get(WebhookSubscription, delivery.subscription_id)
    if subscription is None or not subscription.active:
        return PARKED
    if _earlier_unfinished(session, delivery) is not None:
        return WAITS
    event = session.get(WebhookEvent, delivery.event_id)
    assert event is not None
    delivery.claimed_at = now
    delivery.attempts += 1
    created = event.created_at.isoformat().replace("+00:00", "Z")
    return Claimed(
        delivery_id=delivery.id,
        subscription_id=subscription.id,
        order_id=delivery.order_id,
        url=subscription.url,
        secret=subscription.secret,
        event_id=f"evt_{event.id}",
        body=event_body(event.id, event.type, created, event.data),
        attempt=delivery.attempts,
    )


def log_attempt(
    session: Session,
    claimed: Claimed,
    *,
    status_code: int | None,
    latency_ms: int,
    error: str | None,
    outcome: str,
) -> None:
    """Add the attempt to the delivery's log and show it on the delivery."""
    now = utcnow()
    session.add(
        WebhookAttempt(
            delivery_id=claimed.delivery_id,
            attempt=claimed.attempt,
            at=now,
            status_code=status_code,
            latency_ms=latency_ms,
            error=error,
            outcome=outcome,
        )
    )
    ended = outcome != "retry"
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claimed.delivery_id)
        .values(
            status=PENDING if not ended else outcome,
            claimed_at=None,
            last_status_code=status_code,
            last_error=error,
            last_latency_ms=latency_ms,
            finished_at=now if ended else None,
        )
    )
    if ended:
        _ask_for_next(session, claimed)


def _ask_for_next(session: Session, claimed: Claimed) -> None:
    """The next unfinished delivery of the same order, which may have waited for this one."""
    following = session.scalar(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.subscription_id == claimed.subscription_id,
            WebhookDelivery.order_id == claimed.order_id,
            WebhookDelivery.id > claimed.delivery_id,
            WebhookDelivery.status == PENDING,
        )
        .order_by(WebhookDelivery.id)
        .limit(1)
    )
    if following is not None:
        later(session, DELIVER_WEBHOOK, following)


def subscriber_answered(session: Session, subscription_id: int, *, ok: bool) -> datetime | None:
    """Clear the subscription's failing streak, or start it; since when it fails (None: not)."""
    if ok:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(failing_since=None)
        )
        return None
    subscription = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if subscription is None:
        return None
    if subscription.failing_since is None:
        subscription.failing_since = utcnow()
    return subscription.failing_since


def disable(session: Session, subscription_id: int, reason: str) -> bool:
    """Disable the subscription and have operations told, once; False if it already was."""
    disabled = session.execute(
        update(WebhookSubscription)
        .where(WebhookSubscription.id == subscription_id, WebhookSubscription.active)
        .values(active=False, disabled_at=utcnow(), disabled_reason=reason[:300], notified_at=None)
        .returning(WebhookSubscription.id)
    ).scalar()
    if disabled is None:
        return False
    later(session, ALERT_WEBHOOK_DISABLED, subscription_id)
    return True
