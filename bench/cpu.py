"""CPU seconds that named groups of processes used between two moments, children included.

A group is the process trees under some root pids, resolved afresh at each reading. A
process's CPU is its own user+system time plus that of the children it has reaped; so
between two readings a group used, per process:

- alive at both: the growth of own + reaped time;
- born after the first reading: all its own + reaped time;
- gone by the second reading: minus what it had at the first, because its whole life now
  shows in its parent's reaped time (the parent is in the group: a backend's postmaster,
  a pool child's worker, a gunicorn worker's master).

Two readings are enough, then: a process that is born and reaped in between (a short
autovacuum worker, say) is counted whole through its parent, with no sampling to miss it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]  # no stubs among our dependencies

Roots = Callable[[], Iterable[int | None]]


@dataclass(frozen=True)
class Reading:
    """One process at one moment: when it started, its own CPU, its reaped children's."""

    born: float
    own: float
    reaped: float


Snapshot = dict[int, Reading]


def listening_pid(port: int) -> int | None:
    """The process listening on TCP `port` (any address), if one is."""
    for connection in psutil.net_connections(kind="inet"):
        listening = connection.status == psutil.CONN_LISTEN
        if listening and connection.laddr and connection.laddr.port == port and connection.pid:
            return int(connection.pid)
    return None


def busy_cpu() -> float:
    """Seconds all cores of the machine have been busy so far."""
    cores = psutil.cpu_times()
    return float(sum(cores) - cores.idle - getattr(cores, "iowait", 0.0))


def own_cpu() -> float:
    """This process's own CPU seconds so far."""
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def used(before: Snapshot, after: Snapshot) -> float:
    """CPU seconds a group used between two snapshots of it (see the module's docstring)."""
    total = 0.0
    for pid, later in after.items():
        earlier = before.get(pid)
        total += later.own + later.reaped
        if earlier is not None and earlier.born == later.born:
            total -= earlier.own + earlier.reaped
    for pid, earlier in before.items():
        gone = after.get(pid)
        if gone is None or gone.born != earlier.born:
            total -= earlier.own + earlier.reaped
    return total


class CpuMeter:
    """CPU seconds per group from start() to stop(); rebase() forgets a group's past."""

    def __init__(self, groups: dict[str, Roots], exclude: Callable[[], Iterable[int]]) -> None:
        """Groups by name; `exclude()` names pids never counted (the benchmark's own backend)."""
        self._groups = groups
        self._exclude = exclude
        self._before: dict[str, Snapshot] = {}
        self._busy = 0.0

    def snapshot(self, names: Iterable[str] | None = None) -> dict[str, Snapshot]:
        """A reading of every process of the named groups (all groups by default)."""
        children = _children_by_parent()
        excluded = set(self._exclude())
        chosen = list(self._groups) if names is None else list(names)
        return {
            name: _read_all(_tree(self._groups[name](), children) - excluded) for name in chosen
        }

    def start(self) -> None:
        """Take the first reading of every group."""
        self._before = self.snapshot()
        self._busy = busy_cpu()

    def rebase(self, name: str) -> None:
        """Count group `name` only from now on (a process that just finished starting)."""
        self._before[name] = self.snapshot([name])[name]

    def stop(self) -> tuple[dict[str, float], float]:
        """CPU seconds per group since start(), and the machine's busy seconds over the span."""
        after = self.snapshot()
        busy = busy_cpu() - self._busy
        return {name: used(self._before[name], after[name]) for name in self._groups}, busy


def _children_by_parent() -> dict[int, list[int]]:
    """Every process's children, from one pass over the process table."""
    children: dict[int, list[int]] = {}
    for process in psutil.process_iter(["ppid"]):
        parent = process.info.get("ppid")
        if parent is not None:
            children.setdefault(int(parent), []).append(int(process.pid))
    return children


def _tree(roots: Iterable[int | None], children: dict[int, list[int]]) -> set[int]:
    found: set[int] = set()
    waiting = [root for root in roots if root is not None]
    while waiting:
        pid = waiting.pop()
        if pid not in found:
            found.add(pid)
            waiting.extend(children.get(pid, ()))
    return found


def _read_all(pids: Iterable[int]) -> Snapshot:
    readings = {pid: _read(pid) for pid in pids}
    return {pid: reading for pid, reading in readings.items() if reading is not None}


def _read(pid: int) -> Reading | None:
    try:
        process = psutil.Process(pid)
        with process.oneshot():
            times, born = process.cpu_times(), process.create_time()
    except psutil.Error:
        return None
    return Reading(born, times.user + times.system, times.children_user + times.children_system)
