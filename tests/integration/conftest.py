"""Fixtures of the integration tier: a payment sandbox served in-process for the adapter tests,
and the statements the workers' engine sends."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.services.allocate import AllocationResult, allocate_order
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.stripe_support import NO_FAULTS, served_sandbox, set_faults


@contextlib.contextmanager
def recorded_statements(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every statement the engine behind `sessions` sends inside the block, in order."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, Engine)
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(" ".join(str(args[2]).split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def statements(context: Context) -> Iterator[list[str]]:
    """Every statement the workers' engine sends while the test runs, in order."""
    with recorded_statements(context.work.sessions) as sent:
        yield sent


# What `product` costs, in minor units.
PRODUCT_PRICE = 2500


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """A sandbox of the module's own, served over real HTTP."""
    with served_sandbox() as url:
        yield url


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[str]:
    """The module's sandbox, its faults switched off again after each test."""
    yield sandbox_url
    set_faults(sandbox_url, **NO_FAULTS)


@pytest.fixture
def product(sessions: sessionmaker[Session]) -> str:
    """A new product at PRODUCT_PRICE, ten of it in a warehouse in Newark."""
    number = add_product(sessions, price=PRODUCT_PRICE)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 10})
    return number


@pytest.fixture
def allocate(
    sessions: sessionmaker[Session], directory: WarehouseDirectory, settings: Settings
) -> Callable[..., AllocationResult]:
    """Allocate an order in one go, with any settings overridden by keyword."""

    def run(order_id: uuid.UUID, **overrides: Any) -> AllocationResult:
        return allocate_order(
            Work(sessions), directory, settings.model_copy(update=overrides), order_id
        )

    return run
