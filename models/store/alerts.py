"""Low-stock alerts: opened once when sellable stock falls below its threshold, cleared above it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.domain.clock import utcnow
from models.domain.stock import is_low, threshold_of
from models.domain.tasks import ALERT_LOW_STOCK
from models.store.follow_ups import later
from models.tables.catalog import Stock, StockAlert

_OPEN = StockAlert.cleared_at.is_(None)


def _open_alert(
    session: Session, warehouse_id: int, article_number: str, sellable: int, threshold: int
) -> int | None:
    # The partial unique index admits one open alert per row: a second insert does nothing.
    alert_id = session.execute(
        insert(StockAlert)
        .values(
            warehouse_id=warehouse_id,
            article_number=article_number,
            sellable=sellable,
            threshold=threshold,
            fired_at=utcnow(),
        )
        .on_conflict_do_nothing(
            index_elements=[StockAlert.warehouse_id, StockAlert.article_number],
            index_where=_OPEN,
        )
        .returning(StockAlert.id)
    ).scalar()
    if alert_id is not None:
        # Operations hear of it however the stock fell: the mail commits with the alert.
        later(session, ALERT_LOW_STOCK, alert_id)
    return alert_id


def _clear_alert(session: Session, warehouse_id: int, article_number: str) -> None:
    session.execute(
        update(StockAlert)
        .where(
            StockAlert.warehouse_id == warehouse_id,
            StockAlert.article_number == article_number,
            _OPEN,
        )
        .values(cleared_at=utcnow())
    )


def check_low_stock(
    session: Session, pairs: Iterable[tuple[int, str]], default_threshold: int
) -> list[int]:
    """Open or clear the alert of each (warehouse_id, article_number); ids of newly opened ones."""
    opened = []
    for warehouse_id, article_number in sorted(set(pairs)):
        # Columns, not the mapped object: the pipeline changes stock with plain UPDATEs that
        # an object already in the session would not see.
        row = session.execute(
            select(Stock.on_hand, Stock.reserved, Stock.low_stock_threshold).where(
                Stock.warehouse_id == warehouse_id, Stock.article_number == article_number
            )
        ).first()
        if row is None:
            continue
        sellable = row.on_hand - row.reserved
        threshold = threshold_of(row.low_stock_threshold, default_threshold)
        if is_low(sellable, threshold):
            alert_id = _open_alert(session, warehouse_id, article_number, sellable, threshold)
            if alert_id is not None:
                opened.append(alert_id)
        else:
            _clear_alert(session, warehouse_id, article_number)
    return opened


def open_alerts_below(
    session: Session, rows: Iterable[tuple[int, str, int, int | None]], default_threshold: int
) -> list[int]:
    """Open alerts for rows already known (warehouse, article, sellable, threshold); new ids.

    For callers that only ever lower stock and read the row as they changed it (a
    reservation): rows at or above their threshold cost no statement at all.
    """
    opened = []
    for warehouse_id, article_number, sellable, own in rows:
        threshold = threshold_of(own, default_threshold)
        if is_low(sellable, threshold):
            alert_id = _open_alert(session, warehouse_id, article_number, sellable, threshold)
            if alert_id is not None:
                opened.append(alert_id)
    return opened


def low_stock_metrics(session: Session) -> dict[str, int]:
    """Open alerts, and how many of them operations has not been emailed about yet."""
    row = session.execute(
        select(
            func.count(),
            func.count().filter(StockAlert.notified_at.is_(None)),
        ).where(_OPEN)
    ).one()
    return {"open": row[0], "unnotified": row[1]}
