"""Every failure ends: what retrying cannot mend is not retried, and operations hear once."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from bootstrap import Context, install_context
from models.ports import Carrier, RouteNotServed
from models.services.alert import send_low_stock_alert
from models.services.allocate import allocate_order
from models.services.charge import charge_order
from models.services.reconcile import owed
from models.services.refund import Refunded, refund_order
from models.services.ship import Shipped
from models.services.watchdog import unsent_low_stock_alerts
from models.store.follow_ups import later
from models.tables.catalog import StockAlert
from models.tables.fulfilment import Notification, Payment
from models.tables.orders import Order, OrderEvent
from models.tables.outbox import Outbox
from tests.admin_support import new_shelf, open_alert
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.follow_up_support import pending, run_follow_ups
from tests.infra import Mailbox
from workers.step_task import MAX_UNEXPECTED


def paid_order(client: FlaskClient, ctx: Context) -> uuid.UUID:
    bed = add_product(ctx.sessions)
    add_warehouse(ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    response = client.post("/orders", json=order_body([(bed, 1)]))
    assert response.status_code == 202
    order_id = uuid.UUID(response.get_json()["order_id"])
    allocate_order(ctx.work, ctx.directory, ctx.settings, order_id)
    charge_order(ctx.work, ctx.gateway, order_id)
    return order_id


def operations_mails(mailbox: Mailbox, order_id: uuid.UUID, kind: str) -> list[str]:
    return [
        str(m["To"])
        for m in mailbox.for_order(str(order_id))
        if str(m["Message-ID"]).strip().startswith(f"<{kind}.")
    ]


def events(ctx: Context, order_id: uuid.UUID) -> list[str]:
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(OrderEvent.kind)
                .where(OrderEvent.order_id == order_id)
                .order_by(OrderEvent.id)
            )
        )


def test_a_route_no_carrier_serves_ends_the_shipping_step_and_tells_operations_once(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = paid_order(client, context)

    def no_route(*, origin_country: str, destination_country: str) -> Carrier:
        raise RouteNotServed(f"no carrier from {origin_country} to {destination_country}")

    refusing = dataclasses.replace(context, carriers=no_route)
    install_context(refusing)
    try:
        ran = run_follow_ups(refusing, order_id)
    finally:
        install_context(context)

    assert ("fulfillment.ship", [str(order_id)], Shipped.FAILED.value) in ran

    assert events(context, order_id).count("shipping_failed") == 1
    with context.sessions() as session:
        assert session.scalar(select(Order.status).where(Order.id == order_id)) == "paid"
    assert operations_mails(mailbox, order_id, "shipping_failed") == [
        context.settings.operations_email
    ]
    assert pending(context, order_id) == []


def test_a_refund_the_gateway_refuses_ends_in_refund_failed_and_is_not_asked_again(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = paid_order(client, context)
    with context.work() as session:
        session.execute(update(Order).where(Order.id == order_id).values(status="cancelled"))
        # An intent the gateway has no charge for: it refuses the refund for good.
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id)
            .values(status="refund_pending", gateway_id=f"pi_unknown_{uuid.uuid4().hex[:8]}")
        )

    assert refund_order(context.work, context.gateway, order_id) is Refunded.FAILED
    run_follow_ups(context, order_id)
    owed(context.work, older_than=-timedelta(seconds=1))  # the sweep that re-asks owed money

    with context.sessions() as session:
        payment = session.scalars(select(Payment).where(Payment.order_id == order_id)).one()
    assert payment.status == "refund_failed"
    assert payment.refund_attempts == 1
    assert operations_mails(mailbox, order_id, "refund_failed") == [
        context.settings.operations_email
    ]
    assert [task for task, _ in pending(context, order_id) if "refund" in task] == []


def test_an_alert_the_mail_server_refuses_for_good_is_not_sent_again(
    context: Context, mailbox: Mailbox
) -> None:
    shelf = new_shelf(context.sessions, on_hand=2)
    alert_id = open_alert(context.sessions, shelf)
    mailbox.refuse_with.append("554 5.7.1 relay denied")

    first = send_low_stock_alert(context.work, context.mailer, context.settings, alert_id)
    again = send_low_stock_alert(context.work, context.mailer, context.settings, alert_id)
    unsent_low_stock_alerts(context.work, sla_seconds=0)  # the sweep that re-asks unsent alerts

    assert (first, again) == (False, False)
    with context.sessions() as session:
        stored = session.get(StockAlert, alert_id)
        assert stored is not None
        assert stored.failed_at is not None
        assert stored.notified_at is None
        assert stored.attempts == 1
        assert "554" in str(stored.last_error)
        asked = session.scalars(
            select(Outbox).where(Outbox.message_key == str(alert_id), Outbox.done_at.is_(None))
        ).all()
    assert asked == []
    assert mailbox.refuse_with == []


def test_a_step_that_fails_for_a_reason_no_retry_mends_fails_at_once_and_operations_hear(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = paid_order(client, context)
    with context.work() as session:
        bad = later(session, "fulfillment.notify", str(order_id), "no_such_mail")
        assert bad is not None

    ran = run_follow_ups(context, order_id)

    with context.sessions() as session:
        row = session.get(Outbox, bad.id)
        assert row is not None
        assert row.failed_at is not None
        assert row.attempts == 1
        assert "no_such_mail" in str(row.last_error)
        notes = session.scalars(
            select(Notification.kind).where(Notification.order_id == order_id)
        ).all()
    assert [r for r in ran if r[1] == [str(order_id), "no_such_mail"]] == [
        ("fulfillment.notify", [str(order_id), "no_such_mail"], "failed")
    ]
    assert "step_failed" in events(context, order_id)
    assert operations_mails(mailbox, order_id, "step_failed") == [context.settings.operations_email]
    assert "step_failed" in notes


def test_a_step_that_keeps_failing_for_a_reason_it_does_not_know_is_retried_then_given_up(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order_id = paid_order(client, context)

    def broken(*, origin_country: str, destination_country: str) -> Carrier:
        raise RuntimeError("the carrier adapter has a bug")

    install_context(dataclasses.replace(context, carriers=broken))
    try:
        ran = run_follow_ups(context, order_id)
    finally:
        install_context(context)

    ships = [result for task, _, result in ran if task == "fulfillment.ship"]
    assert ships == ["retry_later"] * (MAX_UNEXPECTED - 1) + ["failed"]
    assert events(context, order_id).count("step_failed") == 1
    assert operations_mails(mailbox, order_id, "step_failed") == [context.settings.operations_email]
    assert pending(context, order_id) == []
