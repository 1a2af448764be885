"""Where the active warehouses are, cached per process, and each customer's ranking of them."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.catalog import Warehouse
from models.domain.allocation import Ranked, Site, rank
from models.domain.geo import Point

# Warehouses open and close rarely; a minute's delay before a new one is considered is fine.
REFRESH_SECONDS = 60.0
RANKINGS_KEPT = 10_000


class WarehouseDirectory:
    """Active warehouses, reloaded every `refresh` seconds, and an LRU of rankings by place."""

    def __init__(
        self,
        *,
        refresh: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._sites: list[Site] = []
        self._loaded_at = float("-inf")
        self._rankings: OrderedDict[tuple[float, float], list[Ranked]] = OrderedDict()

    def _load(self, session: Session) -> list[Site]:
        rows = session.execute(
            select(
                Warehouse.id,
                Warehouse.code,
                Warehouse.latitude,
                Warehouse.longitude,
                Warehouse.allows_self_service,
            ).where(Warehouse.active.is_(True))
        ).all()
        return [
            Site(r.id, r.code, Point(r.latitude, r.longitude), r.allows_self_service) for r in rows
        ]

    def invalidate(self) -> None:
        """Reload on next use (after a warehouse was added, moved or closed)."""
        with self._lock:
            self._loaded_at = float("-inf")

    def ranking(self, session: Session, customer: Point) -> list[Ranked]:
        """Every active warehouse, nearest to `customer` first; reloads through `session`.

        The caller's session is used so that a step never holds one connection while
        waiting for a second from the same pool.
        """
        with self._lock:
            if self._clock() - self._loaded_at > self._refresh:
                self._sites = self._load(session)
                self._loaded_at = self._clock()
                self._rankings.clear()
            # Rounded to ~10 m: customers in one postal code share their ranking.
            key = (round(customer.latitude, 4), round(customer.longitude, 4))
            cached = self._rankings.get(key)
            if cached is not None:
                self._rankings.move_to_end(key)
                return cached
            ranked = rank(customer, self._sites)
            self._rankings[key] = ranked
            if len(self._rankings) > RANKINGS_KEPT:
                self._rankings.popitem(last=False)
            return ranked
