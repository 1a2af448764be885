"""Fixtures of the integration tier: a payment sandbox served in-process for the adapter tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.stripe_support import NO_FAULTS, served_sandbox, set_faults


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
