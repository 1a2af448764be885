"""Helpers the authorise-then-capture tests share: a paid (authorised) order, the payment row,
and what the payment sandbox holds of it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context
from models.services.charge import Charged, charge_order
from models.services.ship import Shipped, ship_order
from models.tables.fulfilment import Payment
from tests.integration.hold_support import allocated

HOLD_FOR = timedelta(hours=72)


def authorised(client: FlaskClient, context: Context, product: str, quantity: int = 1) -> uuid.UUID:
    """An order placed, allocated and paid by an authorisation (nothing captured yet)."""
    order_id = allocated(client, context, product, quantity)
    charged = charge_order(context.work, context.gateway, order_id, capture="manual")
    assert charged is Charged.PAID
    return order_id


def ship(context: Context, order_id: uuid.UUID) -> Shipped:
    """The ship step as its task runs it: capture first, then labels."""
    return ship_order(
        context.work, context.carriers, order_id, gateway=context.gateway, hold_for=HOLD_FOR
    )


def payment_of(context: Context, order_id: uuid.UUID) -> Payment:
    with context.work.sessions() as session:
        payment = session.scalar(
            select(Payment).where(Payment.order_id == order_id, Payment.part == 1)
        )
        assert payment is not None
        session.expunge(payment)
        return payment


def sandbox(context: Context) -> str:
    assert context.settings.payment_api_base is not None
    return context.settings.payment_api_base


def taken(context: Context, order_id: uuid.UUID) -> list[int]:
    """The money the sandbox's ledger took for the order: one amount per capture or charge."""
    ledger = requests.get(f"{sandbox(context)}/_sandbox/ledger", timeout=5).json()
    return [e["amount"] for e in ledger if e["metadata"].get("order_id") == str(order_id)]


def intent(context: Context, intent_id: str) -> dict[str, Any]:
    intents = requests.get(f"{sandbox(context)}/_sandbox/intents", timeout=5).json()
    (found,) = [i for i in intents if i["id"] == intent_id]
    return dict(found)


def intents_of(context: Context, order_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every intent the sandbox holds for the order, oldest first."""
    intents = requests.get(f"{sandbox(context)}/_sandbox/intents", timeout=5).json()
    return [dict(i) for i in intents if i["metadata"].get("order_id") == str(order_id)]


@contextlib.contextmanager
def authorisations_lasting(context: Context, seconds: float) -> Iterator[None]:
    """The sandbox's card authorisations last `seconds` while inside (7 days after)."""
    url = f"{sandbox(context)}/_sandbox/faults"
    requests.post(url, json={"authorization_seconds": seconds}, timeout=5).raise_for_status()
    try:
        yield
    finally:
        week = {"authorization_seconds": 7 * 24 * 3600}
        requests.post(url, json=week, timeout=5).raise_for_status()
