"""The system's processes as the harness sees them: killable, restartable, watched for crashes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil  # type: ignore[import-untyped]  # no stubs among our dependencies

from devstack.processes import REPO_ROOT, end_group, log_tail, spawn
from devstack.services import RunningService, start_redis

MAX_RESTARTS = 20
WATCH_INTERVAL = 0.5


class Proc:
    """A long-running process of the system in its own process group, logging to a file."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        """Remember how to start it; start() starts it."""
        self.name, self.argv, self.env, self.log = name, list(argv), env, log
        self.lock = threading.RLock()
        self.process: subprocess.Popen[bytes] | None = None
        # True while the harness keeps it down on purpose: its death is not a crash.
        self.held_down = True
        self._log_offset = 0

    def start(self) -> None:
        """Start it (again), its output appended to the same log."""
        with self.lock:
            self._log_offset = self.log.stat().st_size if self.log.exists() else 0
            self.process = spawn(self.argv, self.log, env=self.env, cwd=REPO_ROOT)
            self.held_down = False

    def logged_since_start(self, text: bytes) -> bool:
        """Whether the process wrote `text` to its log since it was last started."""
        if not self.log.exists():
            return False
        with self.log.open("rb") as log:
            log.seek(self._log_offset)
            return text in log.read()

    def kill(self) -> None:
        """SIGKILL its whole process group, as a machine losing the process would."""
        with self.lock:
            self.held_down = True
            if self.process is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def stop(self) -> None:
        """SIGTERM the group, then SIGKILL what is left."""
        with self.lock:
            self.held_down = True
            if self.process is not None:
                end_group(self.process, grace=5.0)

    def exit_code(self) -> int | None:
        """The exit code once it died; None while it runs or before it started."""
        return None if self.process is None else self.process.poll()

    @property
    def pid(self) -> int | None:
        """The process id of its group leader."""
        return None if self.process is None else self.process.pid


def busiest_child(pid: int, sample_seconds: float = 0.3, patience: float = 8.0) -> int | None:
    """The child of `pid` that used most CPU over a short sample: likely one running a task."""
    # A worker that was just restarted forks its pool a few seconds after it starts.
    deadline = time.monotonic() + patience
    children = _children(pid)
    while not children and time.monotonic() < deadline:
        time.sleep(0.5)
        children = _children(pid)
    before = {child.pid: _cpu(child) for child in children}
    time.sleep(sample_seconds)
    used = {child.pid: _cpu(child) - before[child.pid] for child in children}
    alive = {child_pid: spent for child_pid, spent in used.items() if spent >= 0}
    return max(alive, key=lambda child_pid: alive[child_pid]) if alive else None


def _children(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=False))
    except psutil.Error:
        return []


def _cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.Error:
        return -1.0
    return float(times.user + times.system)


class RestartableRedis:
    """Redis without persistence on a fixed port: killed, it comes back empty on the same port."""

    def __init__(self, port: int) -> None:
        """Start it."""
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._service: RunningService | None = start_redis(port=port)

    def kill(self) -> None:
        """SIGKILL the server: every queued task and unacknowledged delivery is gone."""
        service, self._service = self._service, None
        if service is not None and service.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(service.process.pid, signal.SIGKILL)
            service.stop()

    def start(self) -> None:
        """Start an empty server on the same port."""
        if self._service is None:
            self._service = start_redis(port=self.port)

    def stop(self) -> None:
        """Stop it for good."""
        self.kill()


@dataclass(frozen=True)
class Crash:
    """A process the harness did not kill that died anyway."""

    name: str
    exit_code: int
    at: float
    log_tail: str


class Watchman:
    """Restarts any process that died without the harness killing it, and records the crash."""

    def __init__(self, procs: Sequence[Proc], started: float) -> None:
        """Watch `procs`; crash times count from `started` (monotonic)."""
        self._procs = list(procs)
        self._started = started
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._crashes: list[Crash] = []
        self._thread = threading.Thread(target=self._watch, name="watchman", daemon=True)

    def start(self) -> None:
        """Begin watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before the processes are stopped, so that is not taken for a crash)."""
        self._stopping.set()
        self._thread.join(timeout=5.0)

    def crashes(self) -> list[Crash]:
        """Every crash seen so far."""
        with self._lock:
            return list(self._crashes)

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_INTERVAL):
            for proc in self._procs:
                self._check(proc)

    def _check(self, proc: Proc) -> None:
        with proc.lock:
            code = proc.exit_code()
            if proc.held_down or code is None:
                return
            crash = Crash(proc.name, code, time.monotonic() - self._started, log_tail(proc.log, 8))
            with self._lock:
                self._crashes.append(crash)
                restarts = sum(1 for c in self._crashes if c.name == proc.name)
            print(f"chaos: {proc.name} died by itself (exit {code}); restarting it", flush=True)
            if restarts <= MAX_RESTARTS:
                proc.start()
            else:
                proc.held_down = True
