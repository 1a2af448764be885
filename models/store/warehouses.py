"""Where the active warehouses are, cached per process."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.domain.allocation import Site
from models.domain.geo import Point
from models.tables.catalog import Warehouse
from models.tables.fulfilment import Allocation

# Warehouses open and close rarely; a minute's delay before a change is seen is fine.
REFRESH_SECONDS = 60.0


class WarehouseDirectory:
    """Active warehouses by id, reloaded every `refresh` seconds."""

    def __init__(
        self, *, refresh: float = REFRESH_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._sites: dict[int, Site] = {}
        self._loaded_at = float("-inf")

    def sites(self, session: Session) -> Mapping[int, Site]:
        """Every active warehouse by id; reloads through `session` when stale.

        The caller's session is used so that a step never holds one connection while
        waiting for a second from the same pool.
        """
        with self._lock:
            if self._clock() - self._loaded_at > self._refresh:
                rows = session.execute(
                    select(
                        Warehouse.id,
                        Warehouse.code,
                        Warehouse.latitude,
                        Warehouse.longitude,
                        Warehouse.allows_self_service,
                        Warehouse.country,
                    ).where(Warehouse.active.is_(True))
                ).all()
                self._sites = {
                    r.id: Site(
                        r.id,
                        r.code,
                        Point(r.latitude, r.longitude),
                        r.allows_self_service,
                        r.country,
                    )
                    for r in rows
                }
                self._loaded_at = self._clock()
            return self._sites


def pickup_warehouse(session: Session, order_id: uuid.UUID) -> Warehouse | None:
    """The warehouse a pickup order is collected at (its first allocation's), once allocated."""
    return session.scalars(
        select(Warehouse)
        .join(Allocation, Allocation.warehouse_id == Warehouse.id)
        .where(Allocation.order_id == order_id)
        .order_by(Allocation.id)
        .limit(1)
    ).first()
