"""Gunicorn's own lines (the arbiter's: booting, worker timeouts, shutdown) in the project's format.

Named by `intake/gunicorn_conf.py`, the config file every gunicorn of the project is given.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging  # type: ignore[import-untyped]

from bootstrap.logs import configure_logging
from settings import get_settings


class Logger(glogging.Logger):  # type: ignore[misc]
    """Gunicorn's logger with its handlers handed over to the root logger's, ours."""

    def setup(self, cfg: Any) -> None:
        """Set up as gunicorn does, then send its loggers through the project's handler."""
        super().setup(cfg)
        configure_logging(get_settings())
