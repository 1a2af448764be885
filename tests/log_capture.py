"""The `log_lines` fixture: every line logged while a test runs, formatted as production
writes it (works without pytest's caplog). Use with `pytest_plugins = ["tests.log_capture"]`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bootstrap.logs import configure_structlog, formatter


class Collector(logging.Handler):
    """Every log record, formatted as production writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter("json"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every line logged at DEBUG or above while the test runs."""
    configure_structlog()
    root = logging.getLogger()
    collector, level = Collector(), root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    yield collector.lines
    root.removeHandler(collector)
    root.setLevel(level)
