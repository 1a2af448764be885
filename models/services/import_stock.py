"""Stock counts from a CSV file: every row checked first, then all of them set, or none."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from models.services.inventory_errors import InventoryError
from models.services.stock_admin import KEEP, Keep, StockChange, set_stock, with_alerts
from models.store.unit_of_work import Work
from models.tables.catalog import ARTICLE_NUMBER, Product, Stock, Warehouse

COLUMNS = ("warehouse_code", "article_number", "on_hand", "low_stock_threshold")


class ImportRejected(Exception):
    """Rows that cannot be imported, as (field, reason) pairs like ("line 3.on_hand", ...)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))
        self.errors = errors


@dataclass(frozen=True)
class ImportResult:
    """How many rows were set, and each change."""

    imported: int
    changes: list[StockChange]


@dataclass(frozen=True)
class _Row:
    line: int
    warehouse_code: str
    article_number: str
    on_hand: str
    threshold: str


def _count(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[0-9]{1,9}", text) else None


def _lines(source: str | TextIO) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(source) if isinstance(source, str) else source)
    first = True
    for raw in reader:
        cells = [cell.strip() for cell in raw]
        if not any(cells):
            continue
        # A header row is welcome but optional.
        if not (first and cells[0].lower() == COLUMNS[0]):
            yield reader.line_num, cells
        first = False


def _read(source: str | TextIO) -> tuple[list[_Row], list[tuple[str, str]]]:
    rows: list[_Row] = []
    errors: list[tuple[str, str]] = []
    try:
        for line, cells in _lines(source):
            if len(cells) in (3, 4):
                threshold = cells[3] if len(cells) == 4 else ""
                rows.append(_Row(line, cells[0], cells[1], cells[2], threshold))
            else:
                errors.append((f"line {line}", f"expected the columns {','.join(COLUMNS)}"))
    except csv.Error as exc:
        errors.append(("file", f"not readable as CSV: {exc}"))
    if not rows and not errors:
        errors.append(("file", "has no stock rows"))
    return rows, errors


class _Catalogue:
    """What the rows refer to, looked up once for the whole file."""

    def __init__(self, session: Session, rows: list[_Row]) -> None:
        codes = {row.warehouse_code for row in rows}
        numbers = {row.article_number for row in rows}
        self.warehouses = dict(
            session.execute(
                select(Warehouse.code, Warehouse.id).where(Warehouse.code.in_(codes))
            ).all()
        )
        self.products = set(
            session.scalars(
                select(Product.article_number).where(Product.article_number.in_(numbers))
            )
        )
        pairs = [(self.warehouses.get(r.warehouse_code), r.article_number) for r in rows]
        known = [(w, a) for w, a in pairs if w is not None]
        self.reserved: dict[tuple[int, str], int] = {}
        if known:
            found = session.execute(
                select(Stock.warehouse_id, Stock.article_number, Stock.reserved).where(
                    tuple_(Stock.warehouse_id, Stock.article_number).in_(known)
                )
            )
            self.reserved = {(w, a): reserved for w, a, reserved in found}


def _check(row: _Row, catalogue: _Catalogue, seen: dict[tuple[str, str], int]) -> list[str]:
    """Faults of one row as "field: reason" strings."""
    faults = []
    warehouse_id = catalogue.warehouses.get(row.warehouse_code)
    if warehouse_id is None:
        faults.append(f"warehouse_code: no warehouse with code {row.warehouse_code!r}")
    if not re.match(ARTICLE_NUMBER, row.article_number):
        faults.append("article_number: must be an article number like 493.857.51")
    elif row.article_number not in catalogue.products:
        faults.append(f"article_number: no product {row.article_number}")
    on_hand = _count(row.on_hand)
    if on_hand is None:
        faults.append("on_hand: must be a whole number, 0 or more")
    elif warehouse_id is not None:
        reserved = catalogue.reserved.get((warehouse_id, row.article_number), 0)
        if on_hand < reserved:
            faults.append(f"on_hand: {reserved} units are reserved for orders")
    if row.threshold and _count(row.threshold) is None:
        faults.append("low_stock_threshold: must be a whole number, 0 or more")
    key = (row.warehouse_code, row.article_number)
    if key in seen:
        faults.append(f"article_number: already on line {seen[key]} for this warehouse")
    seen.setdefault(key, row.line)
    return faults


def _faults(catalogue: _Catalogue, rows: list[_Row]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], int] = {}
    errors = []
    for row in rows:
        for fault in _check(row, catalogue, seen):
            field, _, reason = fault.partition(": ")
            errors.append((f"line {row.line}.{field}", reason))
    return errors


def _line_of(error: tuple[str, str]) -> int:
    number = error[0].removeprefix("line ").partition(".")[0]
    return int(number) if number.isdigit() else 0


def import_stock_csv(
    session: Session, source: str | TextIO, *, actor: str, reason: str = "stock import"
) -> ImportResult:
    """Set every row's on-hand count (and threshold, when given), or refuse the whole file.

    Columns: warehouse_code,article_number,on_hand[,low_stock_threshold].
    """
    rows, errors = _read(source)
    catalogue = _Catalogue(session, rows)
    errors += _faults(catalogue, rows)
    if errors:
        raise ImportRejected(sorted(errors, key=_line_of))
    # Locked in (warehouse, article) order, the order reservations use, so neither deadlocks.
    ordered = sorted(rows, key=lambda r: (catalogue.warehouses[r.warehouse_code], r.article_number))
    changes = []
    for row in ordered:
        threshold: int | Keep = int(row.threshold) if row.threshold else KEEP
        try:
            changes.append(
                set_stock(
                    session,
                    warehouse_id=catalogue.warehouses[row.warehouse_code],
                    article_number=row.article_number,
                    on_hand=int(row.on_hand),
                    reason=reason,
                    actor=actor,
                    low_stock_threshold=threshold,
                )
            )
        except InventoryError as exc:  # an order reserved more since the check
            raise ImportRejected([(f"line {row.line}.{exc.field}", exc.reason)]) from exc
    return ImportResult(len(changes), changes)


def import_stock(
    work: Work, source: str, *, actor: str, default_threshold: int, reason: str = "stock import"
) -> list[StockChange]:
    """Import a file (the admin API's, the CLI's) with its low-stock alerts, in one transaction."""
    return with_alerts(
        work,
        default_threshold,
        lambda session: import_stock_csv(session, source, actor=actor, reason=reason).changes,
    )
