"""Who calls the order API in its tests: guests A and B, customers C and D, and staff."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient

from bootstrap import Context
from intake.auth import CUSTOMER, STAFF_READ, STAFF_WRITE, issue_admin_token
from models.services.allocate import Allocated, allocate_order
from models.services.charge import Charged, charge_order
from models.services.ship import Shipped, ship_order
from settings import Settings
from tests.factories import order_body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def account_token(settings: Settings, *roles: str, subject: str | None = None) -> str:
    """An API token for a new subject (or `subject`) with `roles`."""
    return issue_admin_token(settings, subject or f"user-{uuid.uuid4().hex[:12]}", roles=roles)


@dataclass(frozen=True)
class Placed:
    """An order placed in a test, and the credentials of whoever placed it."""

    order_id: str
    order_token: str
    headers: dict[str, str]


def place(client: FlaskClient, product: str, account: str | None = None, **changes: Any) -> Placed:
    """An order for one `product`, by a guest, or by the customer account of `account`."""
    headers = bearer(account) if account else {}
    response = client.post("/orders", json=order_body([(product, 1)], **changes), headers=headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    own = headers or bearer(body["order_token"])
    return Placed(body["order_id"], body["order_token"], own)


@dataclass(frozen=True)
class Cast:
    """Everyone the ownership tests ask on behalf of, by name."""

    headers: dict[str, dict[str, str]]
    tokens: dict[str, str]


def cast(client: FlaskClient, settings: Settings, product: str) -> tuple[Cast, dict[str, Placed]]:
    """Guests A and B and customers C and D with an order each; staff that can read or write."""
    customers = {name: account_token(settings, CUSTOMER) for name in ("customer C", "customer D")}
    orders = {
        "guest A": place(client, product),
        "guest B": place(client, product),
        "customer C": place(client, product, customers["customer C"]),
        "customer D": place(client, product, customers["customer D"]),
    }
    headers = {name: placed.headers for name, placed in orders.items()}
    headers["staff read"] = bearer(account_token(settings, STAFF_READ))
    headers["staff write"] = bearer(account_token(settings, STAFF_READ, STAFF_WRITE))
    headers["nobody"] = {}
    return Cast(headers, customers), orders


def ship(context: Context, order_id: str) -> None:
    """Allocate, charge and ship a placed order, as the workers would."""
    key = uuid.UUID(order_id)
    allocated = allocate_order(context.work, context.directory, context.settings, key)
    assert allocated.outcome is Allocated.ALLOCATED
    assert charge_order(context.work, context.gateway, key) is Charged.PAID
    assert ship_order(context.work, context.carriers, key) is Shipped.SHIPPED
