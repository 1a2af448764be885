"""`python -m devstack.run` as a process of its own, and every process it started (Linux)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from devstack.banner import RULE, Row, parse_start_table
from devstack.processes import REPO_ROOT, pid_is_alive
from devstack.services import http_ok

# Unset, so the runner embeds all of them rather than using what the test session points at.
EMBEDDED_SETTINGS = ("DATABASE_URL", "REDIS_URL", "SQS_ENDPOINT_URL", "PAYMENT_API_BASE")
READY_SECONDS = 90.0
STOP_SECONDS = 60.0
T = TypeVar("T")


@dataclass(frozen=True)
class Proc:
    """A process as /proc shows it; the start time tells it apart from a later one with its pid."""

    pid: int
    ppid: int
    started: int
    command: str

    def is_alive(self) -> bool:
        """Whether this very process still runs (a zombie has exited)."""
        now = read_proc(self.pid)
        return now is not None and now.started == self.started and pid_is_alive(self.pid)


def read_proc(pid: int) -> Proc | None:
    """The process with this pid, or None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in parentheses may hold spaces; the numeric fields follow the last ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return Proc(pid, ppid=int(fields[1]), started=int(fields[19]), command=command)


def descendants(root: int) -> list[Proc]:
    """Every process below `root` in the parent tree, children before grandchildren."""
    everyone = [proc for entry in os.listdir("/proc") if entry.isdigit() for proc in _read(entry)]
    found: list[Proc] = []
    parents = {root}
    while layer := [proc for proc in everyone if proc.ppid in parents and proc not in found]:
        found.extend(layer)
        parents = {proc.pid for proc in layer}
    return found


def _read(entry: str) -> list[Proc]:
    proc = read_proc(int(entry))
    return [] if proc is None else [proc]


@dataclass
class RunningStack:
    """The runner, what it printed so far, and every process seen below it."""

    process: subprocess.Popen[bytes]
    # Its DEVSTACK_DATA_DIR: PostgreSQL's data, the mailbox, stack.json.
    data: Path
    lines: list[str] = field(default_factory=list)
    seen: set[Proc] = field(default_factory=set)
    # Processes still alive after the runner exited, which the cleanup then killed.
    leftovers: list[str] = field(default_factory=list)

    def tree(self) -> list[Proc]:
        """The runner's descendants now, remembered for the cleanup."""
        found = descendants(self.process.pid)
        self.seen.update(found)
        return found

    def child(self, fragment: str) -> Proc | None:
        """The runner's live direct child whose command line contains `fragment`."""
        direct = [p for p in self.tree() if p.ppid == self.process.pid and fragment in p.command]
        return next((proc for proc in direct if proc.is_alive()), None)

    def output(self) -> str:
        """What the runner printed so far."""
        return "\n".join(self.lines)

    def service_url(self, name: str) -> str:
        """Where an embedded service answers, as the runner announced it."""
        announced = re.compile(rf"^devstack: {name} answers at (\S+)$")
        matches = (announced.match(line) for line in list(self.lines))
        url = next((match.group(1) for match in matches if match), None)
        assert url is not None, f"the runner never said where {name} answers"
        return url

    def start_table(self) -> dict[str, Row]:
        """The components the ready banner lists, by name (empty until it is printed)."""
        return parse_start_table(self.output())

    def api(self) -> str | None:
        """The intake's URL as the start table names it."""
        row = self.start_table().get("API")
        return None if row is None else row.address


def open_folder(prefix: str) -> Path:
    """A new folder others may enter, as the embedded PostgreSQL runs as nobody under root."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


@contextlib.contextmanager
def devstack_runner(
    args: Sequence[str] = (), data: Path | None = None
) -> Iterator[tuple[RunningStack, str]]:
    """The runner on embedded services, in its own session, once its intake answers.

    Its data folder is `data` (kept by the caller), or a throwaway one.
    """
    # The runner's temp folders, removed afterwards even if it was killed.
    scratch = open_folder("devstack-runner-")
    env = {key: value for key, value in os.environ.items() if key not in EMBEDDED_SETTINGS}
    data = data or scratch / "data"
    env["DEVSTACK_DATA_DIR"] = str(data)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.run", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=REPO_ROOT,
        env=env | {"PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)},
    )
    stack = RunningStack(process, data)
    reader = threading.Thread(target=_collect, args=(stack,), daemon=True)
    reader.start()
    try:
        yield stack, _wait_until_ready(stack)
    finally:
        _stop(stack)
        reader.join(timeout=5)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _collect(stack: RunningStack) -> None:
    assert stack.process.stdout is not None
    for raw in stack.process.stdout:
        stack.lines.append(raw.decode(errors="replace").rstrip())


def _wait_until_ready(stack: RunningStack) -> str:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert stack.process.poll() is None, f"the runner exited early:\n{stack.output()}"
        api = stack.api()
        # The banner is whole once its closing rule is in: it is read line by line.
        whole = list(stack.lines).count(RULE) >= 2
        if api is not None and whole and http_ok(f"{api}/healthz"):
            stack.tree()
            return api
        time.sleep(0.3)
    raise AssertionError(f"the stack did not answer in {READY_SECONDS:.0f} s:\n{stack.output()}")


def _stop(stack: RunningStack) -> None:
    """Stop the runner as Ctrl-C would, then kill anything it left behind, so no test leaks."""
    if stack.process.poll() is None:
        stack.tree()
        stack.process.send_signal(signal.SIGTERM)
        try:
            stack.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            stack.process.kill()
            stack.process.wait()
    for proc in stack.seen:
        if proc.is_alive():
            stack.leftovers.append(f"{proc.pid} {proc.command}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


def eventually(condition: Callable[[], T | None], seconds: float, what: str) -> T:
    """Poll `condition` until it returns something; fail naming `what` if it does not in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (result := condition()) is not None:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} within {seconds:.0f} s")
