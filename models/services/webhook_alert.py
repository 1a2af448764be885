"""Telling operations a webhook subscription was disabled: one email per disabling."""

from __future__ import annotations

import logging

from sqlalchemy import update

from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.mail import Mail, build_message, derived_message_id
from models.ports import Mailer, MailRejected, MailTransient
from models.store.follow_ups import finish_current
from models.store.unit_of_work import Work
from models.tables.webhooks import WebhookSubscription
from settings import Settings

log = logging.getLogger(__name__)


def render(subscription: WebhookSubscription) -> Mail:
    """The email about a disabled subscription (its URL and why; never its secret)."""
    subject = f"Webhook subscription {subscription.id} disabled: {subscription.url}"[:200]
    text = "\n".join(
        [
            f"Webhook subscription {subscription.id} ({subscription.url}) was disabled "
            f"at {subscription.disabled_at:%Y-%m-%d %H:%M} UTC.",
            "",
            f"Why: {subscription.disabled_reason}",
            "",
            "Its undelivered events wait. Once the endpoint answers again, enable it",
            f'(PATCH /admin/webhooks/{subscription.id} with {{"active": true}}) and they go out',
            "in order.",
            "",
        ]
    )
    return Mail(subject, text)


def _claim(work: Work, subscription_id: int) -> Mail | None:
    with work() as session:
        claimed = session.execute(
            update(WebhookSubscription)
            .where(
                WebhookSubscription.id == subscription_id,
                WebhookSubscription.active.is_(False),
                WebhookSubscription.notified_at.is_(None),
            )
            .values(notified_at=utcnow())
            .returning(WebhookSubscription)
        ).scalar()
        if claimed is None:
            finish_current(session)
            return None
        return render(claimed)


def _unclaim(work: Work, subscription_id: int) -> None:
    with work() as session:
        session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(notified_at=None)
        )


def alert_webhook_disabled(
    work: Work, mailer: Mailer, settings: Settings, subscription_id: int
) -> bool:
    """Email operations that the subscription was disabled, unless that was done."""
    mail = _claim(work, subscription_id)
    if mail is None:
        return False
    message = build_message(
        mail,
        sender=settings.mail_from,
        recipient=settings.operations_email,
        msgid=derived_message_id(f"webhook-disabled.{subscription_id}", settings.mail_from),
    )
    try:
        mailer.send(message)
    except MailRejected as exc:
        log.error("webhook subscription %s: operations mail refused: %s", subscription_id, exc)
        return False
    except MailTransient as exc:
        _unclaim(work, subscription_id)
        raise TryLater(str(exc), delay=backoff(3, cap=STEP_CAP_SECONDS)) from exc
    log.info("operations told webhook subscription %s was disabled", subscription_id)
    return True
