"""The signed, expiring link each mail carries opens its order, and nothing else."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.links import access_for
from models.services.notify import send_notification
from tests.infra import Mailbox, message_text
from tests.integration.order_api_support import place


def mailed_link(context: Context, mailbox: Mailbox, order_id: str) -> str:
    """The order link in the "received" mail, as its reader would copy it."""
    send_notification(context.work, context.post, context.settings, uuid.UUID(order_id), "received")
    text = "\n".join(message_text(message) for message in mailbox.for_order(order_id))
    found = re.search(r"https?://\S+/orders/" + order_id + r"\?access=\S+", text)
    assert found, text
    return found.group(0)


def altered(access: str) -> str:
    """`access` with one character of its signature changed.

    Not the last one: 16 bytes in base64 end in a character with four unused bits, so only
    four last characters occur, and one in four links already ends in any of them.
    """
    position = len(access) - 5
    changed = "B" if access[position] != "B" else "C"
    return access[:position] + changed + access[position + 1 :]


def test_the_mailed_link_opens_its_order_without_a_token(
    client: FlaskClient, context: Context, mailbox: Mailbox, product: str
) -> None:
    placed = place(client, product)
    link = mailed_link(context, mailbox, placed.order_id)
    path = link.removeprefix(context.settings.public_base_url)

    opened = client.get(path)

    assert opened.status_code == 200
    assert opened.get_json()["order_id"] == placed.order_id
    assert opened.headers["Cache-Control"] == "no-store"
    assert client.get(path.replace("?", "/events?")).status_code == 200


def test_a_link_altered_expired_or_for_another_order_opens_nothing(
    client: FlaskClient, context: Context, product: str
) -> None:
    mine, other = place(client, product), place(client, product)
    secret = context.settings.order_token_secret.get_secret_value()
    now = utcnow()
    good = access_for(secret, uuid.UUID(mine.order_id), now, 1)
    expiry, _, signature = good.partition(".")
    later = f"{int(expiry) + 86400}.{signature}"
    expired = access_for(secret, uuid.UUID(mine.order_id), now - timedelta(days=2), 1)
    missing = client.get(f"/orders/{uuid.uuid4()}?access={good}")

    for access in (later, expired, altered(good), "1." + "A" * 200, "x", "9" * 20 + "."):
        refused = client.get(f"/orders/{mine.order_id}?access={access}")
        assert (refused.status_code, refused.data) == (404, missing.data), access
    assert client.get(f"/orders/{other.order_id}?access={good}").data == missing.data
    assert client.get(f"/orders/{mine.order_id}?access={good}").status_code == 200


def test_a_link_reads_but_cannot_cancel(
    client: FlaskClient, context: Context, product: str
) -> None:
    placed = place(client, product)
    secret = context.settings.order_token_secret.get_secret_value()
    access = access_for(secret, uuid.UUID(placed.order_id), utcnow(), 1)

    refused = client.post(f"/orders/{placed.order_id}/cancel?access={access}")

    assert refused.status_code == 401
    assert client.get(f"/orders/{placed.order_id}", headers=placed.headers).get_json()[
        "status"
    ] in {"received", "allocated"}
