"""Managing webhook subscriptions: made, changed, enabled again, removed; deliveries re-sent.

Each function works in the caller's transaction. Refusals are InventoryError subclasses,
which the admin API answers as problem documents naming the field and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.tasks import DELIVER_WEBHOOK
from models.domain.webhooks import PENDING, new_secret
from models.services.inventory_errors import Conflict, NotFound
from models.store.follow_ups import later
from models.tables.webhooks import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)


def subscription(
    session: Session, subscription_id: int, *, lock: bool = False
) -> WebhookSubscription:
    """The subscription, or NotFound."""
    found = session.get(WebhookSubscription, subscription_id, with_for_update=lock)
    if found is None:
        raise NotFound("subscription_id", f"no webhook subscription {subscription_id}")
    return found


def all_subscriptions(session: Session) -> list[WebhookSubscription]:
    """Every subscription, by id."""
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def create_subscription(
    session: Session,
    *,
    url: str,
    event_types: Sequence[str],
    secret: str | None = None,
    description: str | None = None,
) -> WebhookSubscription:
    """A new, active subscription; its secret is the one given or a fresh one."""
    made = WebhookSubscription(
        url=url,
        secret=secret or new_secret(),
        event_types=sorted(set(event_types)),
        description=description,
        active=True,
    )
    session.add(made)
    session.flush()
    return made


def _ask_again(session: Session, subscription_id: int) -> int:
    """A follow-up for each unfinished delivery (those parked while it was disabled)."""
    waiting = session.scalars(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == PENDING
        )
        .order_by(WebhookDelivery.id)
    ).all()
    for delivery_id in waiting:
        later(session, DELIVER_WEBHOOK, delivery_id)
    return len(waiting)


def update_subscription(
    session: Session,
    subscription_id: int,
    *,
    url: str | None = None,
    event_types: Sequence[str] | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> WebhookSubscription:
    """Change what is given; enabling clears the failing streak and sends what waited."""
    found = subscription(session, subscription_id, lock=True)
    if url is not None:
        found.url = url
    if event_types is not None:
        found.event_types = sorted(set(event_types))
    if description is not None:
        found.description = description
    if active is True and not found.active:
        found.active = True
        found.failing_since = None
        found.disabled_at = None
        found.disabled_reason = None
        session.flush()
        _ask_again(session, subscription_id)
    elif active is False and found.active:
        found.active = False
        found.disabled_at = utcnow()
        found.disabled_reason = "disabled through the admin API"
    return found


def delete_subscription(session: Session, subscription_id: int) -> None:
    """Remove the subscription with its deliveries and their log."""
    session.delete(subscription(session, subscription_id))


def deliveries(
    session: Session, subscription_id: int, *, limit: int, before: int | None = None
) -> list[WebhookDelivery]:
    """The subscription's deliveries, newest first."""
    subscription(session, subscription_id)
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))


def attempts(session: Session, delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    """The log of each of these deliveries, oldest attempt first."""
    rows = session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.id)
    )
    log: dict[int, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    for row in rows:
        log[row.delivery_id].append(row)
    return log


def event_types_of(session: Session, event_ids: Sequence[int]) -> dict[int, str]:
    """The type of each of these events."""
    rows = session.execute(
        select(WebhookEvent.id, WebhookEvent.type).where(WebhookEvent.id.in_(event_ids))
    )
    return {int(row.id): str(row.type) for row in rows}


def redeliver(session: Session, subscription_id: int, delivery_id: int) -> WebhookDelivery:
    """Send the delivery again, whatever became of it, with a fresh count of attempts."""
    found = subscription(session, subscription_id)
    delivery = session.scalar(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == found.id)
        .with_for_update()
    )
    if delivery is None:
        raise NotFound("delivery_id", f"no delivery {delivery_id} of subscription {found.id}")
    if not found.active:
        raise Conflict("subscription_id", "the subscription is disabled: enable it first")
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id)
        .values(status=PENDING, attempts=0, claimed_at=None, finished_at=None)
    )
    later(session, DELIVER_WEBHOOK, delivery.id)
    session.refresh(delivery)
    return delivery
