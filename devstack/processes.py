"""Ports, readiness probes and process groups shared by the embedded services."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from devstack.parent_death import exit_with_parent

REPO_ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 10.0


@dataclass
class RunningService:
    """An embedded service: where it answers and how to stop it."""

    name: str
    url: str
    stop: Callable[[], None]
    process: subprocess.Popen[bytes] | None = None
    pid: int | None = None
    log: Path | None = None
    workdir: Path | None = None
    # How to start it afresh once it has died; None where what it held cannot be rebuilt.
    restart: Callable[[], RunningService] | None = None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether `port` on 127.0.0.1 can be bound now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As servers do: a port whose last connections linger in TIME_WAIT is still usable.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def preferred_port(port: int) -> int:
    """`port` when it is free, otherwise any free port."""
    return port if port_is_free(port) else free_port()


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until host:port accepts connections; TimeoutError after `timeout` seconds."""
    wait_until(lambda: port_answers(host, port), timeout, f"nothing listens on {host}:{port}")


def wait_until(
    ready: Callable[[], bool],
    timeout: float,
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    """Poll `ready` until true; fail early if `process` exits, and quote its log."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: exited with {process.returncode}{log_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:.0f} s{log_tail(log)}")
        time.sleep(0.05)


def log_tail(log: Path | None, lines: int = 20) -> str:
    """The last lines of a log file, ready to append to an error message."""
    if log is None or not log.exists():
        return ""
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- {log} ---\n" + "\n".join(tail)


def whole_lines(log: Path) -> list[str]:
    """The lines a running process has finished writing: the last may still be half written,
    so text after the last newline is left for the next read. Nothing if there is no file."""
    if not log.exists():
        return []
    return log.read_text(errors="replace").split("\n")[:-1]


def spawn(
    argv: Sequence[str],
    log: Path,
    death_signal: signal.Signals = signal.SIGTERM,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Start `argv` in its own session, output to `log`; it gets `death_signal` if we die."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Safe beside threads: it takes no lock (it resets a signal, calls prctl and getppid).
            preexec_fn=exit_with_parent(death_signal),  # noqa: PLW1509
            **popen,
        )


def stop_group(
    process: subprocess.Popen[Any],
    grace: float = STOP_GRACE_SECONDS,
    first: signal.Signals = signal.SIGTERM,
) -> None:
    """End the process group, then close the pipes to it."""
    end_group(process, grace, first)
    for stream in (process.stdin, process.stdout, process.stderr):
        _close(stream)


def end_group(
    process: subprocess.Popen[Any],
    grace: float = STOP_GRACE_SECONDS,
    first: signal.Signals = signal.SIGTERM,
) -> None:
    """Send `first` to the process group, wait, then SIGKILL whatever is left."""
    if process.poll() is None:
        _signal_group(process.pid, first)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # Children may outlive their leader (or ignore SIGTERM): the group goes down either way.
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _close(stream: IO[Any] | None) -> None:
    if stream is not None:
        stream.close()


def once(action: Callable[[], None]) -> Callable[[], None]:
    """`action`, made safe to call any number of times."""
    done = False

    def run_once() -> None:
        nonlocal done
        if not done:
            done = True
            action()

    return run_once


def pid_is_alive(pid: int) -> bool:
    """Whether a process with this id exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not Path("/proc").is_dir():
        return True
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    # A zombie has exited already; only its parent's bookkeeping remains.
    return status.rsplit(")", 1)[-1].split()[0] != "Z"
