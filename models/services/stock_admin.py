"""Changing the stock on purpose: counts, adjustments and imports, every unit recorded.

Each function works in the caller's transaction. Stock rows are locked before they are read
(`SELECT ... FOR UPDATE`), so an admin's change and an order's reservation never overwrite
each other, and every change of units leaves a StockMovement saying who, how much and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.stock import increased
from models.services.catalogue import checked_text, warehouse_by_code
from models.services.inventory_errors import InventoryError, NotFound
from models.store.alerts import check_low_stock
from models.store.unit_of_work import Work
from models.tables.catalog import Product, Stock, StockMovement, Warehouse

__all__ = [
    "KEEP",
    "InventoryError",
    "Keep",
    "ShelfRef",
    "StockChange",
    "adjust_stock",
    "record_adjustment",
    "record_count",
    "set_stock",
    "with_alerts",
]


class Keep(Enum):
    """Marks an optional setting the caller leaves as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


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
            reason=checked_text("reason", reason, 200),
            actor=checked_text("actor", actor, 100),
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
    checked_text("reason", reason, 200)
    stock = _lock_stock(session, warehouse_id, article_number)
    if stock.on_hand + change < stock.reserved:
        sellable = stock.on_hand - stock.reserved
        raise InventoryError(
            "change", f"only {sellable} units are not reserved for orders; cannot take {-change}"
        )
    return _move(session, stock, stock.on_hand + change, reason, actor)


def with_alerts(
    work: Work, default_threshold: int, change: Callable[[Session], list[StockChange]]
) -> list[StockChange]:
    """Run `change` and the low-stock check in one transaction; an alert's mail follows it."""
    with work() as session:
        changes = change(session)
        check_low_stock(session, [c.pair for c in changes], default_threshold)
    return changes


@dataclass(frozen=True)
class ShelfRef:
    """A stock row by the names people use: the warehouse's code and the article number."""

    warehouse_code: str
    article_number: str
    # The field a refusal names for the warehouse: `warehouse_code` in the API, `warehouse`
    # on the command line.
    code_field: str = "warehouse_code"


def _on_shelf(
    work: Work,
    shelf: ShelfRef,
    default_threshold: int,
    change: Callable[[Session, int], StockChange],
) -> StockChange:
    """One change to the shelf, with its low-stock check, in one transaction."""

    def changed(session: Session) -> list[StockChange]:
        warehouse = warehouse_by_code(session, shelf.warehouse_code, field=shelf.code_field)
        return [change(session, warehouse.id)]

    return with_alerts(work, default_threshold, changed)[0]


def record_count(
    work: Work,
    shelf: ShelfRef,
    *,
    on_hand: int,
    reason: str,
    actor: str,
    default_threshold: int,
    low_stock_threshold: int | Keep | None = KEEP,
) -> StockChange:
    """A count (an admin's PUT, the CLI's `stock set`), with its alert, in one transaction."""
    return _on_shelf(
        work,
        shelf,
        default_threshold,
        lambda session, warehouse_id: set_stock(
            session,
            warehouse_id=warehouse_id,
            article_number=shelf.article_number,
            on_hand=on_hand,
            reason=reason,
            actor=actor,
            low_stock_threshold=low_stock_threshold,
        ),
    )


def record_adjustment(
    work: Work, shelf: ShelfRef, *, change: int, reason: str, actor: str, default_threshold: int
) -> StockChange:
    """An adjustment (a delivery, a breakage), with its alert, in one transaction."""
    return _on_shelf(
        work,
        shelf,
        default_threshold,
        lambda session, warehouse_id: adjust_stock(
            session,
            warehouse_id=warehouse_id,
            article_number=shelf.article_number,
            change=change,
            reason=reason,
            actor=actor,
        ),
    )
