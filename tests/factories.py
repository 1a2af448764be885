"""Test data with unique ids: every test makes its own products, warehouses and orders."""

from __future__ import annotations

import random
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.tables.catalog import Product, Stock, Warehouse
from models.tables.idempotency import IdempotencyKey

_rng = random.Random()


def article_number() -> str:
    """A fresh article number in the ###.###.## form."""
    n = _rng.randrange(10**8)
    return f"{n // 10**5:03d}.{n // 100 % 1000:03d}.{n % 100:02d}"


def add_product(
    sessions: sessionmaker[Session], *, price: int = 1000, currency: str = "USD"
) -> str:
    """A new product; its article number."""
    number = article_number()
    with sessions() as session, session.begin():
        session.add(
            Product(article_number=number, name=f"Test {number}", price=price, currency=currency)
        )
    return number


def add_warehouse(
    sessions: sessionmaker[Session],
    *,
    latitude: float,
    longitude: float,
    stock: dict[str, int] | None = None,
    self_service: bool = True,
    country: str = "US",
) -> int:
    """A new active warehouse at the given place, holding `stock`; its id."""
    code = f"T-{uuid.uuid4().hex[:10]}"
    with sessions() as session, session.begin():
        warehouse = Warehouse(
            code=code,
            name=code,
            postal_code="00000",
            country=country,
            latitude=latitude,
            longitude=longitude,
            allows_self_service=self_service,
        )
        session.add(warehouse)
        session.flush()
        for number, units in (stock or {}).items():
            session.add(
                Stock(warehouse_id=warehouse.id, article_number=number, on_hand=units, reserved=0)
            )
        return warehouse.id


def stock_of(sessions: sessionmaker[Session], warehouse_id: int, number: str) -> tuple[int, int]:
    """(on_hand, reserved) of a product in a warehouse."""
    with sessions() as session:
        row = session.get(Stock, (warehouse_id, number))
        assert row is not None
        return row.on_hand, row.reserved


def order_body(lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
    """A valid guest order for New York (10001) with the given lines."""
    body: dict[str, Any] = {
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "shipping_address": {
            "line1": "1 Main St",
            "city": "New York",
            "postal_code": "10001",
            "country": "US",
        },
        "delivery_method": "curbside",
        "payment_method": "pm_card_visa",
        "lines": [{"article_number": n, "quantity": q} for n, q in lines],
    }
    body.update(overrides)
    return body


# Places to put warehouses, by distance from New York 10001.
NEW_YORK = (40.7484, -73.9967)
NEWARK = (40.7357, -74.1724)
CHICAGO = (41.8781, -87.6298)
SEATTLE = (47.6062, -122.3321)
MALMO = (55.6059, 13.0007)


def stored_key(session: Session, key: str) -> IdempotencyKey | None:
    """The stored response under `key`, whoever's scope it is in (tests use fresh keys)."""
    return session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == key)).one_or_none()
