"""Abandoned payments checked again later: a charge the gateway took after all is refunded."""

from __future__ import annotations

import uuid
from datetime import timedelta

import requests
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.payments import charge_key
from models.services import reconcile as reconciling
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, give_up
from models.services.refund import Refunded, refund_order
from models.tables.fulfilment import Payment
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from workers.adapters.fakes import FakeGateway


def abandoned_order(client: FlaskClient, context: Context, *, charged_anyway: bool) -> uuid.UUID:
    """An allocated order whose payment was given up on, an hour and a half ago."""
    bed = add_product(context.sessions, price=4000)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    response = client.post("/orders", json=order_body([(bed, 1)]))
    order_id = uuid.UUID(response.get_json()["order_id"])
    allocated = allocate_order(context.work, context.directory, context.settings, order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    if charged_anyway:
        # The charge reached the gateway; its answer never reached us.
        context.gateway.charge(
            idempotency_key=charge_key(order_id),
            amount=8900,
            currency="usd",
            payment_method="pm_card_visa",
            order_id=str(order_id),
        )
    with context.sessions() as session, session.begin():
        session.execute(
            insert(Payment).values(
                order_id=order_id,
                idempotency_key=charge_key(order_id),
                status="pending",
                amount=8900,
                currency="USD",
                attempts=9,
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    unreachable = FakeGateway(unavailable_times=100)
    assert give_up(context.work, unreachable, order_id, "attempts ran out") is Charged.ABANDONED
    with context.sessions() as session, session.begin():
        session.execute(
            update(Payment)
            .where(Payment.order_id == order_id)
            .values(updated_at=utcnow() - timedelta(minutes=90))
        )
    return order_id


def payment(sessions: sessionmaker[Session], order_id: uuid.UUID) -> Payment:
    with sessions() as session:
        return session.scalars(select(Payment).where(Payment.order_id == order_id)).one()


def test_a_charge_found_after_giving_up_is_refunded_once(
    client: FlaskClient, context: Context
) -> None:
    order_id = abandoned_order(client, context, charged_anyway=True)

    assert order_id in reconciling.due(context.work)
    assert reconciling.reconcile(context.work, context.gateway, order_id) is True
    assert reconciling.reconcile(context.work, context.gateway, order_id) is False
    assert refund_order(context.work, context.gateway, order_id) is Refunded.REFUNDED

    paid_back = payment(context.sessions, order_id)
    assert (paid_back.status, paid_back.reconciled_at is not None) == ("refunded", True)
    ledger = requests.get(f"{context.settings.payment_api_base}/_sandbox/ledger", timeout=5).json()
    (entry,) = [e for e in ledger if e["metadata"].get("order_id") == str(order_id)]
    assert entry["refunded"] == entry["amount"]
    assert order_id not in reconciling.due(context.work)


def test_an_abandoned_payment_the_gateway_never_charged_is_checked_once(
    client: FlaskClient, context: Context
) -> None:
    order_id = abandoned_order(client, context, charged_anyway=False)

    assert reconciling.reconcile(context.work, context.gateway, order_id) is False

    checked = payment(context.sessions, order_id)
    assert (checked.status, checked.failure_code) == ("failed", "gateway_unavailable")
    assert checked.reconciled_at is not None
    assert order_id not in reconciling.due(context.work)
