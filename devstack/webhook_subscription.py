"""`make run` subscribes its webhook receiver to every order event, once the database is ready."""

from __future__ import annotations

from sqlalchemy import select

from devstack.children import say
from devstack.embedded import Started
from devstack.webhook_receiver import DEV_RECEIVER_SECRET
from models.services.webhook_admin import create_subscription
from models.store.db import session_factory
from models.tables.webhooks import WebhookSubscription

DESCRIPTION = "make run: the devstack's webhook receiver"


def subscribe_receiver(started: Started, database_url: str | None) -> int | None:
    """Point the receiver's subscription at where it runs now (made the first time); its id."""
    receiver = started.service("webhooks")
    if receiver is None or database_url is None:
        return None
    url = f"{receiver.url}/hooks"
    sessions = session_factory(database_url)
    with sessions() as session, session.begin():
        found = session.scalar(
            select(WebhookSubscription).where(WebhookSubscription.description == DESCRIPTION)
        )
        if found is None:
            found = create_subscription(
                session,
                url=url,
                event_types=[],
                secret=DEV_RECEIVER_SECRET,
                description=DESCRIPTION,
            )
        else:
            found.url, found.secret = url, DEV_RECEIVER_SECRET
        subscription_id = found.id
    say(f"devstack: webhook subscription {subscription_id} sends every order event to {url}")
    return subscription_id
