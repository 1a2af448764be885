"""Fixtures for the admin tests, loaded with `pytest_plugins = ["tests.admin_fixtures"]`."""

from __future__ import annotations

import pytest

from intake.auth import issue_admin_token
from settings import Settings
from tests.admin_support import ADMIN


@pytest.fixture
def admin_headers(settings: Settings) -> dict[str, str]:
    """Authorization headers carrying a fresh admin token for ADMIN."""
    return {"Authorization": f"Bearer {issue_admin_token(settings, ADMIN)}"}
