"""The composition root: real adapters for the running process, fakes injected by tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy.orm import Session, sessionmaker

from models.db import session_factory
from models.directory import WarehouseDirectory
from settings import Settings, get_settings
from workers.adapters.carrier import Carrier, choose_carrier
from workers.adapters.email import Mailer, mailer_from_settings
from workers.adapters.payments import PaymentGateway, StripeGateway


@dataclass
class Context:
    """Everything a pipeline step needs from the outside world."""

    settings: Settings
    sessions: sessionmaker[Session]
    gateway: PaymentGateway
    mailer: Mailer
    # The carrier for a parcel from one country to another.
    carriers: Callable[..., Carrier]
    directory: WarehouseDirectory


def build_context(settings: Settings) -> Context:
    """Real adapters for `settings`."""
    sessions = session_factory(settings.require_database_url())
    return Context(
        settings=settings,
        sessions=sessions,
        gateway=StripeGateway.from_settings(settings),
        mailer=mailer_from_settings(settings),
        carriers=choose_carrier,
        directory=WarehouseDirectory(refresh=settings.warehouse_cache_seconds),
    )


_building = threading.Lock()


@lru_cache(maxsize=1)
def _context() -> Context:
    return build_context(get_settings())


def get_context() -> Context:
    """The process's context, built once on first use (after a prefork worker has forked).

    The lock keeps the threads of a thread-pool worker from each building one on their
    first task; lru_cache alone would let them race.
    """
    with _building:
        return _context()
