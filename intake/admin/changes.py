"""Stock changes as units of work: the change and the low-stock alerts it opens commit together."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from intake.runtime import runtime
from models.services.stock_admin import StockChange
from models.store.alerts import check_low_stock


def commit_stock_changes(change: Callable[[Session], list[StockChange]]) -> list[StockChange]:
    """Run `change` and the low-stock check in one transaction; an alert's mail follows it."""
    rt = runtime()
    with rt.work() as session:
        changes = change(session)
        check_low_stock(
            session, [change.pair for change in changes], rt.settings.low_stock_threshold
        )
    return changes
