"""Changing what the shop holds on purpose: warehouses, products and stock, every unit recorded.

Each function works in the caller's transaction. Stock rows are locked before they are read
(`SELECT ... FOR UPDATE`), so an admin's change and an order's reservation never overwrite
each other, and every change of units leaves a StockMovement saying who, how much and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.countries import country_code
from models.domain.geo import Point
from models.store.geodata import locate
from models.tables.catalog import ARTICLE_NUMBER, Product, Stock, StockMovement, Warehouse


class InventoryError(Exception):
    """A change the inventory refuses: the field at fault and the reason, in the user's words."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(InventoryError):
    """The warehouse or product a change is about does not exist."""


class Conflict(InventoryError):
    """The change collides with what exists, like a warehouse code already in use."""


class Keep(Enum):
    """Marks an optional setting the caller leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


def increased(before_sellable: int, after_sellable: int) -> bool:
    """Whether units became sellable, so that orders waiting for stock may now be filled."""
    return after_sellable > before_sellable


@dataclass(frozen=True)
class StockChange:
    """A stock row after a change, and how many of its units were sellable before it."""

    stock: Stock
    sellable_before: int

    @property
    def pair(self) -> tuple[int, str]:
        """(warehouse_id, article_number) of the row."""
        return self.stock.warehouse_id, self.stock.article_number

    @property
    def sellable(self) -> int:
        """Units on hand that no order holds."""
        return self.stock.on_hand - self.stock.reserved

    @property
    def increased(self) -> bool:
        """Whether this change made more units sellable."""
        return increased(self.sellable_before, self.sellable)


def _text(field: str, value: str, limit: int) -> str:
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise InventoryError(field, f"must be 1 to {limit} characters")
    return value


def _country(text: str) -> str:
    try:
        return country_code(text)
    except ValueError as exc:
        raise InventoryError("country", str(exc)) from None


def _coordinates(
    session: Session,
    country: str,
    postal_code: str,
    latitude: float | None,
    longitude: float | None,
) -> Point:
    if latitude is not None and longitude is not None:
        return Point(latitude, longitude)
    if latitude is not None or longitude is not None:
        raise InventoryError("latitude", "give both latitude and longitude, or neither")
    point = locate(session, country, postal_code)
    if point is None:
        raise InventoryError(
            "postal_code", f"cannot be located in {country}; give latitude and longitude"
        )
    return point


def create_warehouse(
    session: Session,
    *,
    code: str,
    name: str,
    country: str,
    postal_code: str,
    latitude: float | None = None,
    longitude: float | None = None,
    allows_self_service: bool = True,
) -> Warehouse:
    """A new active warehouse, placed by its coordinates or else by its postal code."""
    country = _country(country)
    postal_code = _text("postal_code", postal_code, 16)
    point = _coordinates(session, country, postal_code, latitude, longitude)
    # ON CONFLICT instead of a look-first: two admins adding one code cannot both succeed.
    new_id = session.execute(
        insert(Warehouse)
        .values(
            code=_text("code", code, 32),
            name=_text("name", name, 200),
            country=country,
            postal_code=postal_code,
            latitude=point.latitude,
            longitude=point.longitude,
            active=True,
            allows_self_service=allows_self_service,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["code"])
        .returning(Warehouse.id)
    ).scalar()
    if new_id is None:
        raise Conflict("code", f"a warehouse with code {code} already exists")
    warehouse = session.get(Warehouse, new_id)
    assert warehouse is not None
    return warehouse


def warehouse_by_code(
    session: Session, code: str, *, field: str = "code", lock: bool = False
) -> Warehouse:
    """The warehouse with this code, or NotFound naming `field`."""
    query = select(Warehouse).where(Warehouse.code == code)
    if lock:
        query = query.with_for_update()
    warehouse = session.scalars(query).one_or_none()
    if warehouse is None:
        raise NotFound(field, f"no warehouse with code {code}")
    return warehouse


def update_warehouse(
    session: Session,
    *,
    code: str,
    name: str | None = None,
    country: str | None = None,
    active: bool | None = None,
    allows_self_service: bool | None = None,
) -> Warehouse:
    """Rename a warehouse, correct its country, open or close it, allow or stop self-service."""
    warehouse = warehouse_by_code(session, code, lock=True)
    if name is not None:
        warehouse.name = _text("name", name, 200)
    if country is not None:
        warehouse.country = _country(country)
    if active is not None:
        warehouse.active = active
    if allows_self_service is not None:
        warehouse.allows_self_service = allows_self_service
    session.flush()
    return warehouse


def upsert_product(
    session: Session, *, article_number: str, name: str, price: int, currency: str
) -> tuple[Product, bool]:
    """Create the product or update its name and price; the product and whether it is new."""
    if not re.match(ARTICLE_NUMBER, article_number):
        raise InventoryError("article_number", "must be an article number like 493.857.51")
    if price < 0:
        raise InventoryError("price", "must be 0 or more minor units")
    if not re.match(r"^[A-Z]{3}$", currency):
        raise InventoryError("currency", "must be an ISO 4217 code like USD")
    values = {"name": _text("name", name, 200), "price": price, "currency": currency}
    created = session.execute(
        insert(Product)
        .values(article_number=article_number, created_at=utcnow(), **values)
        .on_conflict_do_nothing(index_elements=["article_number"])
        .returning(Product.article_number)
    ).scalar()
    product = session.get(Product, article_number, with_for_update=True, populate_existing=True)
    assert product is not None
    if created is None:
        for key, value in values.items():
            setattr(product, key, value)
        session.flush()
    return product, created is not None


def _lock_stock(session: Session, warehouse_id: int, article_number: str) -> Stock:
    if session.get(Product, article_number) is None:
        raise NotFound("article_number", f"no product {article_number}")
    if session.get(Warehouse, warehouse_id) is None:
        raise NotFound("warehouse", f"no warehouse {warehouse_id}")
    session.execute(
        insert(Stock)
        .values(
            warehouse_id=warehouse_id,
            article_number=article_number,
            on_hand=0,
            reserved=0,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["warehouse_id", "article_number"])
    )
    return session.scalars(
        select(Stock)
        .where(Stock.warehouse_id == warehouse_id, Stock.article_number == article_number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _move(session: Session, stock: Stock, on_hand: int, reason: str, actor: str) -> StockChange:
    change = StockChange(stock, stock.on_hand - stock.reserved)
    session.add(
        StockMovement(
            warehouse_id=stock.warehouse_id,
            article_number=stock.article_number,
            change=on_hand - stock.on_hand,
            on_hand_after=on_hand,
            reason=_text("reason", reason, 200),
            actor=_text("actor", actor, 100),
            created_at=utcnow(),
        )
    )
    stock.on_hand = on_hand
    session.flush()
    return change


def _reserved_reason(reserved: int) -> str:
    return f"{reserved} units are reserved for orders; on hand cannot go below that"


def set_stock(
    session: Session,
    *,
    warehouse_id: int,
    article_number: str,
    on_hand: int,
    reason: str,
    actor: str,
    low_stock_threshold: int | Keep | None = KEEP,
) -> StockChange:
    """Set the units on hand (a count), creating the stock row when the warehouse has none."""
    if on_hand < 0:
        raise InventoryError("on_hand", "must be 0 or more")
    if isinstance(low_stock_threshold, int) and low_stock_threshold < 0:
        raise InventoryError("low_stock_threshold", "must be 0 or more")
    stock = _lock_stock(session, warehouse_id, article_number)
    if on_hand < stock.reserved:
        raise InventoryError("on_hand", _reserved_reason(stock.reserved))
    if not isinstance(low_stock_threshold, Keep):
        stock.low_stock_threshold = low_stock_threshold
    # Recorded even when the count matches: a count that found what was expected is news too.
    return _move(session, stock, on_hand, reason, actor)


def adjust_stock(
    session: Session,
    *,
    warehouse_id: int,
    article_number: str,
    change: int,
    reason: str,
    actor: str,
) -> StockChange:
    """Add or take away units (a delivery, a breakage), never below what orders hold."""
    if change == 0:
        raise InventoryError("change", "must not be 0")
    _text("reason", reason, 200)
    stock = _lock_stock(session, warehouse_id, article_number)
    if stock.on_hand + change < stock.reserved:
        sellable = stock.on_hand - stock.reserved
        raise InventoryError(
            "change", f"only {sellable} units are not reserved for orders; cannot take {-change}"
        )
    return _move(session, stock, stock.on_hand + change, reason, actor)
