"""The money of a partially shipped order converges per payment: a part-2 charge given up on
that landed after all is found under that part's own reference and refunded, part 1 untouched."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.lifecycle import OrderStatus
from models.domain.payments import charge_key, charge_reference
from models.services import reconcile as reconciling
from models.services.allocate import Allocated
from models.services.charge import MAX_ATTEMPTS
from models.services.charge_part import PartCharged, charge_part
from models.services.refund import Refunded, refund_order
from models.services.track import apply_tracking
from models.tables.fulfilment import Payment, Shipment
from models.tables.orders import Order, OrderEvent
from tests.follow_up_support import run_follow_ups
from tests.integration.partial_support import (
    LAMP,
    allocate,
    order_of,
    part_one_shipped,
    restock,
)
from workers.adapters.fakes import FakeGateway


def part_two_given_up_though_charged(client: FlaskClient, context: Context) -> uuid.UUID:
    """An order whose part-2 charge reached the gateway, whose answer never reached us, and
    which was given up when its attempts ran out, an hour and a half ago."""
    sessions = context.work.sessions
    order_id, newark, _, lamp = part_one_shipped(client, context)
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    context.gateway.charge(
        idempotency_key=charge_key(order_id, 2),
        amount=LAMP,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=charge_reference(order_id, 2),
    )
    unreachable = FakeGateway(unavailable_times=1000)
    with pytest.raises(TryLater):
        charge_part(context.work, unreachable, order_id, 2)
    with sessions() as session, session.begin():
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id, Payment.part == 2)
            .values(attempts=MAX_ATTEMPTS - 1)
        )
    assert charge_part(context.work, unreachable, order_id, 2) is PartCharged.DECLINED
    assert order_of(sessions, order_id).status == "shipped"
    with sessions() as session, session.begin():
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id)
            .values(updated_at=utcnow() - timedelta(minutes=90))
        )
    return order_id


def test_a_part_two_charge_that_landed_after_it_was_given_up_is_refunded_alone(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id = part_two_given_up_though_charged(client, context)

    assert order_id in reconciling.due(context.work)
    assert reconciling.reconcile(context.work, context.gateway, order_id) is True
    assert reconciling.reconcile(context.work, context.gateway, order_id) is False
    assert refund_order(context.work, context.gateway, order_id) is Refunded.REFUNDED
    assert refund_order(context.work, context.gateway, order_id) is Refunded.NOTHING_TO_REFUND

    with sessions() as session:
        rows = session.execute(
            select(Payment.part, Payment.status).where(Payment.order_id == order_id)
        ).all()
    assert sorted(tuple(row) for row in rows) == [(1, "succeeded"), (2, "refunded")]
    ledger = requests.get(f"{context.settings.payment_api_base}/_sandbox/ledger", timeout=5).json()
    (first,) = [e for e in ledger if e["metadata"].get("order_id") == str(order_id)]
    (second,) = [e for e in ledger if e["metadata"].get("order_id") == f"{order_id}/part-2"]
    assert (first["refunded"], second["refunded"]) == (0, LAMP)


def deliver(context: Context, order_id: uuid.UUID, part: int) -> bool:
    """The carrier says the part's parcel arrived; whether that delivered the order."""
    with context.work() as session:
        number = session.scalar(
            select(Shipment.tracking_number).where(
                Shipment.order_id == order_id, Shipment.part == part
            )
        )
        assert number is not None
        return apply_tracking(
            session, number, "delivered", at=utcnow(), source="test"
        ).order_delivered


def test_the_order_is_delivered_once_every_parcel_of_every_part_has_arrived(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, newark, _, lamp = part_one_shipped(client, context)

    assert deliver(context, order_id, 1) is False
    assert order_of(sessions, order_id).status == "partially_shipped"
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)
    assert order_of(sessions, order_id).status == "shipped"
    assert deliver(context, order_id, 2) is True
    assert order_of(sessions, order_id).status == "delivered"


def test_a_declined_last_part_after_the_first_arrived_leaves_the_order_delivered(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, newark, _, lamp = part_one_shipped(client, context, payment_method="pm_card_visa")
    assert deliver(context, order_id, 1) is False
    with sessions() as session, session.begin():
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(payment_method="pm_card_chargeDeclined")
        )
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)

    assert order_of(sessions, order_id).status == "delivered"
    with sessions() as session:
        moves = session.scalars(
            select(OrderEvent.to_status)
            .where(OrderEvent.order_id == order_id, OrderEvent.to_status.is_not(None))
            .order_by(OrderEvent.id)
        ).all()
    assert moves[-3:] == ["partially_shipped", "shipped", "delivered"]


def test_a_worker_that_died_after_charging_part_two_does_not_charge_it_again(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, newark, _, lamp = part_one_shipped(client, context)
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    # The first attempt was counted and reached the gateway; then its worker died.
    with sessions() as session, session.begin():
        session.execute(
            insert(Payment).values(
                order_id=order_id,
                part=2,
                idempotency_key=charge_key(order_id, 2),
                status="pending",
                amount=LAMP,
                currency="USD",
                attempts=1,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    first = context.gateway.charge(
        idempotency_key=charge_key(order_id, 2),
        amount=LAMP,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=charge_reference(order_id, 2),
    )

    run_follow_ups(context, order_id)

    assert order_of(sessions, order_id).status == "shipped"
    with sessions() as session:
        paid = session.scalars(
            select(Payment.gateway_id).where(Payment.order_id == order_id, Payment.part == 2)
        ).one()
    assert paid == first.gateway_id
    ledger = requests.get(f"{context.settings.payment_api_base}/_sandbox/ledger", timeout=5).json()
    assert len([e for e in ledger if e["metadata"].get("order_id") == f"{order_id}/part-2"]) == 1
