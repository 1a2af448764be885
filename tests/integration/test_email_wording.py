"""What the mails say where a careless one would mislead: the state, what is short, the money."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from bootstrap import Context
from models.store.orders import record_event
from tests.infra import Mailbox
from tests.integration.test_email_content import add_payment, parts, place, send

NOT_CHARGED = "You were not charged"


def test_a_us_address_given_without_its_state_is_mailed_with_the_state_of_its_zip(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id, _ = place(client, context)  # New York 10001, no region given

    bodies = parts(send(context, mailbox, order_id, "received"))

    for body in bodies.values():
        assert "New York, NY 10001" in body


@pytest.mark.parametrize("kind", ["rejected", "backordered"])
def test_a_mail_about_missing_stock_names_each_short_line(
    client: FlaskClient, context: Context, mailbox: Mailbox, kind: str
) -> None:
    order_id, (name,) = place(client, context)
    article = name.removeprefix("Test ")
    with context.sessions() as session, session.begin():
        record_event(session, order_id, kind, detail={"shortages": {article: 2}})

    bodies = parts(send(context, mailbox, order_id, kind))

    for body in bodies.values():
        assert f"{name} ({article}): 2 more than we have" in body


@pytest.mark.parametrize("kind", ["cancelled", "payment_failed"])
def test_no_mail_says_not_charged_while_a_charge_may_still_land(
    client: FlaskClient, context: Context, mailbox: Mailbox, kind: str
) -> None:
    pending, _ = place(client, context)
    abandoned, _ = place(client, context)
    declined, _ = place(client, context)
    add_payment(context, pending, status="pending", attempts=1)
    add_payment(context, abandoned, status="failed", failure_code="gateway_unavailable")
    add_payment(context, declined, status="failed", failure_code="card_declined")

    for order_id in (pending, abandoned):
        for body in parts(send(context, mailbox, order_id, kind)).values():
            assert NOT_CHARGED not in body
            assert "comes back to you and we will email you" in body
    for body in parts(send(context, mailbox, declined, kind)).values():
        assert NOT_CHARGED in body
