"""gunicorn's metrics hooks for the intake, which intake/gunicorn_conf.py hands to gunicorn.

The master empties the intake's metrics folder before it forks any worker, and drops a
worker's live gauges when it exits; the workers' counters stay in the merged sum.
"""

from __future__ import annotations

from typing import Any

from settings import get_settings
from telemetry.processes import INTAKE, mark_dead, use_folder


def on_starting(server: Any) -> None:
    """Before the first worker: a fresh folder for this master and its workers."""
    use_folder(get_settings(), INTAKE, fresh=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited (or was killed): its live gauges go with it."""
    mark_dead(get_settings(), INTAKE, worker.pid)
