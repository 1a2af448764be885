"""Stock changes as units of work: the change and its alerts commit together, then the hook runs.

The hook is how the rest of the system hears about stock: `on_stock_changed(pairs, alert_ids)`
is called after every committed change, with the (warehouse_id, article_number) pairs whose
sellable stock went up (orders waiting for stock may now be filled) and the ids of low-stock
alerts the change opened (operations should be emailed). It must not block for long and its
failure never undoes the change, which is already committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from intake.runtime import Runtime, runtime
from models.alerts import check_low_stock
from models.inventory import StockChange

log = logging.getLogger(__name__)

ON_STOCK_CHANGED = "on_stock_changed"

Pairs = list[tuple[int, str]]
StockChangedHook = Callable[[Pairs, list[int]], None]


def ignore_stock_change(pairs: Pairs, alert_ids: list[int]) -> None:
    """The hook until the pipeline installs its own: nothing to tell."""


def install_default_hook(rt: Runtime) -> None:
    """Give the runtime a do-nothing hook unless it already has one."""
    rt.extras.setdefault(ON_STOCK_CHANGED, ignore_stock_change)


def _hook(rt: Runtime) -> StockChangedHook:
    hook = rt.extras.get(ON_STOCK_CHANGED, ignore_stock_change)
    assert callable(hook)
    return hook


def _announce(rt: Runtime, changes: list[StockChange], alert_ids: list[int]) -> None:
    pairs = sorted({change.pair for change in changes if change.increased})
    try:
        _hook(rt)(pairs, alert_ids)
    except Exception:  # the change is committed; a sweeper must catch up, not the client retry
        log.exception("on_stock_changed failed for %s, alerts %s", pairs, alert_ids)


def commit_stock_changes(work: Callable[[Session], list[StockChange]]) -> list[StockChange]:
    """Run `work` and the low-stock check in one transaction, then tell the hook."""
    rt = runtime()
    with rt.sessions() as session, session.begin():
        changes = work(session)
        alert_ids = check_low_stock(
            session, [change.pair for change in changes], rt.settings.low_stock_threshold
        )
    _announce(rt, changes, alert_ids)
    return changes
