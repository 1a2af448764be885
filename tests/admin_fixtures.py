"""Fixtures for the admin tests, loaded with `pytest_plugins = ["tests.admin_fixtures"]`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from intake.admin.changes import ON_STOCK_CHANGED
from intake.auth import issue_admin_token
from intake.runtime import EXTENSION, Runtime
from settings import Settings
from tests.admin_support import ADMIN, StockEvents


@pytest.fixture
def admin_headers(settings: Settings) -> dict[str, str]:
    """Authorization headers carrying a fresh admin token for ADMIN."""
    return {"Authorization": f"Bearer {issue_admin_token(settings, ADMIN)}"}


@pytest.fixture
def stock_events(app: Flask) -> Iterator[StockEvents]:
    """The app's stock hook replaced by a recorder for one test."""
    rt = app.extensions[EXTENSION]
    assert isinstance(rt, Runtime)
    before = rt.extras.get(ON_STOCK_CHANGED)
    events = StockEvents()
    rt.extras[ON_STOCK_CHANGED] = events
    yield events
    rt.extras[ON_STOCK_CHANGED] = before
