"""Tasks the broker fault tests run on real workers: each run leaves a line in a file."""

from __future__ import annotations

import time
from pathlib import Path

from workers.app import app


def _note(folder: str, name: str) -> None:
    with (Path(folder) / name).open("a") as runs:
        runs.write("ran\n")


@app.task(name="tests.mark")
def mark(folder: str, name: str, follow_up: int | None = None) -> None:
    """Note one run of `name` in `folder` (sent by the relay too, with the outbox row's id)."""
    _note(folder, name)


@app.task(name="tests.hold")
def hold(folder: str, name: str, seconds: float) -> None:
    """Note the start, stay busy (and unacknowledged) for a while, then note the end."""
    _note(folder, f"{name}.started")
    time.sleep(seconds)
    _note(folder, f"{name}.done")
