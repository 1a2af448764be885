"""Products, warehouses, stock and postal-code coordinates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from models.domain.clock import utcnow
from models.domain.countries import ISO_COUNTRIES
from models.tables.base import Base

ARTICLE_NUMBER = r"^[0-9]{3}\.[0-9]{3}\.[0-9]{2}$"


def iso_country(column: str) -> str:
    """A CHECK that `column` holds an assigned ISO 3166-1 alpha-2 code."""
    return f"{column} IN ({', '.join(repr(code) for code in sorted(ISO_COUNTRIES))})"


class Product(Base):
    """A sellable article, priced in minor units."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint(f"article_number ~ '{ARTICLE_NUMBER}'", name="article_number_format"),
        CheckConstraint("price >= 0", name="price_not_negative"),
    )

    article_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Warehouse(Base):
    """A place stock ships from."""

    __tablename__ = "warehouse"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint(iso_country("country"), name="country_iso_3166"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Where a customer collects a pickup order; warehouses made before addresses have none.
    address_line1: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(16))
    country: Mapped[str] = mapped_column(String(2))
    opening_hours: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float]
    longitude: Mapped[float]
    active: Mapped[bool] = mapped_column(default=True)
    allows_self_service: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Stock(Base):
    """How much of a product a warehouse holds, and how much of that is promised."""

    __tablename__ = "stock"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("quarantined >= 0", name="quarantined_not_negative"),
    )

    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"), primary_key=True)
    article_number: Mapped[str] = mapped_column(
        ForeignKey("product.article_number"), primary_key=True, index=True
    )
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    # Returned units held apart (damaged, defective): not on hand, not sellable.
    quarantined: Mapped[int] = mapped_column(default=0, server_default="0")
    # Below this many sellable units an alert goes to operations; None uses the setting.
    low_stock_threshold: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockMovement(Base):
    """One change to a stock row that did not come from an order: who, how much, why."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_stock", "warehouse_id", "article_number", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    article_number: Mapped[str] = mapped_column(ForeignKey("product.article_number"))
    change: Mapped[int]
    on_hand_after: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockAlert(Base):
    """Sellable stock fell below its threshold; open until it is back above, so it fires once."""

    __tablename__ = "stock_alert"
    __table_args__ = (
        Index(
            "uq_stock_alert_open",
            "warehouse_id",
            "article_number",
            unique=True,
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    article_number: Mapped[str] = mapped_column(ForeignKey("product.article_number"))
    sellable: Mapped[int]
    threshold: Mapped[int]
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    claimed_at: Mapped[datetime | None]
    # The mail server refused the alert for good; it is not sent again.
    failed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))


class PostalCode(Base):
    """Coordinates of a postal code, imported from GeoNames-format files."""

    __tablename__ = "postal_code"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    postal_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    place_name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float]
    longitude: Mapped[float]
