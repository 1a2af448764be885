"""Changing the catalogue on purpose: warehouses, placed by coordinates or postal code; products."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.countries import country_code
from models.domain.geo import Point
from models.services.inventory_errors import Conflict, InventoryError, NotFound
from models.store.geodata import locate
from models.tables.catalog import ARTICLE_NUMBER, Product, Warehouse


def checked_text(field: str, value: str, limit: int) -> str:
    """The value stripped, or a refusal naming the field when it is empty or too long."""
    value = value.strip()
    if not 1 <= len(value) <= limit:
        raise InventoryError(field, f"must be 1 to {limit} characters")
    return value


def _country(text: str) -> str:
    try:
        return country_code(text)
    except ValueError as exc:
        raise InventoryError("country", str(exc)) from None


# Where a customer collects a pickup order, and each field's longest value.
PLACE_FIELDS = {"address_line1": 200, "city": 100, "opening_hours": 200}


def _place(place: dict[str, str | None]) -> dict[str, str | None]:
    """The pickup place's fields checked; an empty one is refused, None leaves it unset."""
    unknown = set(place) - set(PLACE_FIELDS)
    if unknown:
        raise InventoryError(sorted(unknown)[0], "is not a warehouse field")
    return {
        field: None if value is None else checked_text(field, value, PLACE_FIELDS[field])
        for field, value in place.items()
    }


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
    **place: str | None,
) -> Warehouse:
    """A new active warehouse, placed by its coordinates or else by its postal code; `place`
    is its street address, city and opening hours, shown to pickup customers."""
    country = _country(country)
    postal_code = checked_text("postal_code", postal_code, 16)
    point = _coordinates(session, country, postal_code, latitude, longitude)
    # ON CONFLICT instead of a look-first: two admins adding one code cannot both succeed.
    new_id = session.execute(
        insert(Warehouse)
        .values(
            code=checked_text("code", code, 32),
            name=checked_text("name", name, 200),
            country=country,
            postal_code=postal_code,
            latitude=point.latitude,
            longitude=point.longitude,
            active=True,
            allows_self_service=allows_self_service,
            created_at=utcnow(),
            **_place(place),
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
    **place: str | None,
) -> Warehouse:
    """Rename a warehouse, correct its country, open or close it, allow or stop self-service,
    give it a street address, city or opening hours (None leaves a field as it is)."""
    warehouse = warehouse_by_code(session, code, lock=True)
    for field, value in _place(place).items():
        if value is not None:
            setattr(warehouse, field, value)
    if name is not None:
        warehouse.name = checked_text("name", name, 200)
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
    values = {"name": checked_text("name", name, 200), "price": price, "currency": currency}
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
