"""Where a running `make run` is, written to stack.json in its data folder for `make demo`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from devstack.processes import pid_is_alive

STATE_FILE = "stack.json"


@dataclass(frozen=True)
class StackState:
    """The runner's pid and the addresses it serves."""

    pid: int
    api: str
    flower: str
    started_at: str


def state_path(folder: Path) -> Path:
    """The state file in a data folder."""
    return folder / STATE_FILE


def write_state(folder: Path, state: StackState) -> None:
    """Record the running stack; written whole, so a reader never sees half a file."""
    partial = folder / f".{STATE_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
    partial.replace(state_path(folder))


def remove_state(folder: Path, pid: int) -> None:
    """Forget the stack this runner recorded; a file another runner wrote stays."""
    state = read_state(folder)
    if state is not None and state.pid == pid:
        state_path(folder).unlink(missing_ok=True)


def read_state(folder: Path) -> StackState | None:
    """What stack.json says, or None when there is none or it cannot be read."""
    try:
        values = json.loads(state_path(folder).read_text())
        return StackState(
            pid=int(values["pid"]),
            api=str(values["api"]),
            flower=str(values["flower"]),
            started_at=str(values["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_stack(folder: Path) -> StackState | None:
    """The stack recorded in `folder` if its runner still runs (a killed one leaves the file)."""
    state = read_state(folder)
    return state if state is not None and pid_is_alive(state.pid) else None


def demo_target(explicit: str | None, folder: Path) -> tuple[str | None, str]:
    """The API the demo should use and why; None with the reason when there is none to use."""
    if explicit:
        return explicit.rstrip("/"), f"{explicit} (as given)"
    state = running_stack(folder)
    if state is not None:
        return state.api, f"{state.api} (the stack `make run` started, pid {state.pid})"
    stale = "" if read_state(folder) is None else f" ({state_path(folder)} is left from a run"
    stale += " that has ended)" if stale else ""
    return None, (
        f"no stack is running from {folder}{stale}: start one with `make run` (or"
        " `make run DEMO=1`), or name an API: `make demo API=http://host:port`"
    )
