"""The money of a partially shipped order converges per payment: a part-2 charge given up on
that landed after all is found under that part's own reference and refunded, part 1 untouched."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select, update

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
from models.tables.fulfilment import Payment
from tests.integration.test_partial_fulfilment import (
    LAMP,
    allocate,
    order_of,
    part_one_shipped,
    restock,
)
from workers.adapters.fakes import FakeGateway


def test_a_part_two_charge_that_landed_after_it_was_given_up_is_refunded_alone(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, newark, _, lamp = part_one_shipped(client, context)
    restock(sessions, newark, lamp, 1)
    assert allocate(context, order_id, OrderStatus.PARTIALLY_SHIPPED) is Allocated.ALLOCATED
    # The part-2 charge reaches the gateway; no answer ever reaches us.
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
