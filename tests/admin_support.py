"""Helpers for the admin tests: shelves of stock, their movements, the errors of an answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.clock import utcnow
from models.tables.catalog import Stock, StockAlert, StockMovement, Warehouse
from tests.factories import NEWARK, add_product

ADMIN = "alice@back-office"


def errors_of(response: Any) -> list[dict[str, str]]:
    """The errors listed in a problem+json answer; any other answer fails the test."""
    assert response.mimetype == "application/problem+json"
    return list(response.get_json()["errors"])


@dataclass(frozen=True)
class Shelf:
    """A product stocked in a warehouse of its own."""

    warehouse_id: int
    warehouse_code: str
    article_number: str


def new_shelf(sessions: sessionmaker[Session], on_hand: int = 0, reserved: int = 0) -> Shelf:
    """A new warehouse and product; `on_hand` units stocked, `reserved` of them held by orders."""
    number = add_product(sessions)
    code = f"W-{uuid.uuid4().hex[:10]}"
    with sessions() as session, session.begin():
        warehouse = Warehouse(
            code=code,
            name=f"Warehouse {code}",
            postal_code="07102",
            country="US",
            latitude=NEWARK[0],
            longitude=NEWARK[1],
        )
        session.add(warehouse)
        session.flush()
        shelf = Shelf(warehouse.id, code, number)
    if on_hand:
        _stock(sessions, shelf, on_hand, reserved)
    return shelf


def _stock(sessions: sessionmaker[Session], shelf: Shelf, on_hand: int, reserved: int) -> None:
    with sessions() as session, session.begin():
        session.add(
            Stock(
                warehouse_id=shelf.warehouse_id,
                article_number=shelf.article_number,
                on_hand=on_hand,
                reserved=reserved,
            )
        )


def movements_of(sessions: sessionmaker[Session], shelf: Shelf) -> list[StockMovement]:
    """Every movement of the shelf, oldest first."""
    with sessions() as session:
        return list(
            session.scalars(
                select(StockMovement)
                .where(
                    StockMovement.warehouse_id == shelf.warehouse_id,
                    StockMovement.article_number == shelf.article_number,
                )
                .order_by(StockMovement.id)
            )
        )


def open_alert(sessions: sessionmaker[Session], shelf: Shelf, *, sellable: int = 2) -> int:
    """A low-stock alert on the shelf, open and not yet sent; its id."""
    with sessions() as session, session.begin():
        alert = StockAlert(
            warehouse_id=shelf.warehouse_id,
            article_number=shelf.article_number,
            sellable=sellable,
            threshold=5,
            fired_at=utcnow(),
        )
        session.add(alert)
        session.flush()
        return int(alert.id)
