"""Where a process kind records its metrics, and how they are read back, merged.

prometheus_client's multiprocess mode: each process writes its values to memory-mapped files
named by its pid, and a scrape merges the files. Each process kind (the intake's gunicorn,
the dispatcher, each Celery worker) has a folder of its own under METRICS_DIR, emptied when
the kind's first process starts, so a process kind that restarts starts its counts afresh
and never touches another kind's. The intake's /metrics merges every folder under
METRICS_DIR (on one host, `make run`: the whole system); a process kind with METRICS_PORT
serves its own folder there (one container per kind, compose).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import multiprocess, values
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from settings import Settings
from telemetry.instruments import REGISTRY, forget_values

# prometheus_client names each process's files from this variable, so it is set here, for
# the process that picks its folder and the children it forks; nothing here reads it.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
INTAKE = "intake"
DISPATCHER = "dispatcher"


def folder_of(settings: Settings, kind: str) -> Path | None:
    """A process kind's folder under METRICS_DIR (None without METRICS_DIR)."""
    if not settings.metrics_dir:
        return None
    return Path(settings.metrics_dir) / re.sub(r"[^A-Za-z0-9_.-]", "_", kind)


def use_folder(settings: Settings, kind: str, *, fresh: bool) -> Path | None:
    """Record this process's metrics, and its future children's, in the kind's folder.

    `fresh` empties the folder first: for the first process of a kind (gunicorn's master, a
    Celery worker's main process, the dispatcher), never for the children that share it.
    Without METRICS_DIR, values stay in this process's memory.
    """
    folder = folder_of(settings, kind)
    if folder is None:
        return None
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_VARIABLE] = str(folder)
    # prometheus_client chose its value class when first imported; a new one writes to this
    # folder. Every metric here has labels, so its values are made on first use: any made
    # before now (held in memory, or in another folder) are dropped and made again here.
    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    forget_values()
    return folder


def mark_dead(settings: Settings, kind: str, pid: int) -> None:
    """A child of the kind exited: drop its live gauges (its counters stay in the sum)."""
    folder = folder_of(settings, kind)
    if folder is not None and folder.is_dir():
        multiprocess.mark_process_dead(pid, str(folder))  # type: ignore[no-untyped-call]


class FolderCollector(Collector):
    """Every process's values in the folders matching `pattern` under `root`, merged."""

    def __init__(self, root: Path, pattern: str) -> None:
        self._root = root
        self._pattern = pattern

    def collect(self) -> Iterable[Metric]:
        """The merged metrics; folders are looked for afresh on each scrape."""
        files = sorted(str(path) for path in self._root.glob(self._pattern))
        merged: Iterable[Metric] = multiprocess.MultiProcessCollector.merge(  # type: ignore[no-untyped-call]
            files, accumulate=True
        )
        return merged


def recorded(settings: Settings, kind: str | None = None) -> Collector:
    """What the processes recorded: one kind's folder, every kind's (None), or this process's.

    Without METRICS_DIR there are no folders: this process's own values, from memory.
    """
    if not settings.metrics_dir:
        return REGISTRY
    root = Path(settings.metrics_dir)
    if kind is None:
        return FolderCollector(root, "*/*.db")
    folder = folder_of(settings, kind)
    assert folder is not None
    return FolderCollector(folder, "*.db")
