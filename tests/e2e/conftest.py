"""The end-to-end tier's fixtures: one whole system, shared by the modules that drive it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from settings import Settings
from tests.e2e.system import running_system


@pytest.fixture(scope="package")
def stack(settings: Settings) -> Iterator[dict[str, str]]:
    """Every long-running process of the system, started once for the end-to-end tier.

    The tests that use it each place orders of their own and look only at those, so they share
    it. The modules that need processes set up otherwise (logs in files, a metrics folder of
    their own) start their own, on queues of their own (system.of_its_own).
    """
    with running_system(settings) as urls:
        yield urls
