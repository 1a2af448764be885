"""The runner's child processes, each one's output relayed line by line under its name."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from itertools import cycle

from devstack.parent_death import exit_with_parent
from devstack.processes import REPO_ROOT, end_group

COLORS = cycle(["36", "32", "33", "35", "34", "96", "92", "93", "95", "91"])
NAME_WIDTH = 10
_print_lock = threading.Lock()
# When a child last said anything: what is printed after a pause is not lost among its lines.
_last_relayed = [time.monotonic()]


def say(text: str) -> None:
    """Print whole lines at once, so relayed output never interleaves mid-line."""
    with _print_lock:
        print(text, flush=True)


class Child:
    """A process in its own session whose output is printed as `name | line`; restartable."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        """Start `argv` from the repository root and begin relaying its output."""
        self.name = name
        self.prefix = _prefix(name)
        self.argv = list(argv)
        self.env = env
        self.process, self._relay = self._start()
        self._stopped = False

    def _start(self) -> tuple[subprocess.Popen[bytes], threading.Thread]:
        process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only the runner, which stops children in order.
            start_new_session=True,
            # SIGKILL if the runner dies unannounced. A clean stop is not worth waiting for
            # then: a Celery worker's warm shutdown can wait forever on a broker that is going
            # down beside it. Its children see their parent gone and exit (gunicorn's workers
            # and Celery's pool both watch for that); every task is acknowledged late, so one
            # cut short runs again. Safe beside threads: it takes no lock (it resets a signal,
            # calls prctl and getppid).
            preexec_fn=exit_with_parent(signal.SIGKILL),  # noqa: PLW1509
            env=self.env,
            cwd=REPO_ROOT,
        )
        relay = threading.Thread(
            target=self._relay_output, args=(process,), name=f"relay-{self.name}", daemon=True
        )
        relay.start()
        return process, relay

    def _relay_output(self, process: subprocess.Popen[bytes]) -> None:
        if process.stdout is None:
            return
        for raw in process.stdout:
            say(self.prefix + raw.decode(errors="replace").rstrip())
            _last_relayed[0] = time.monotonic()

    def exit_code(self) -> int | None:
        """The exit code, or None while it runs."""
        return self.process.poll()

    def restart(self) -> None:
        """Clear away what is left of the last run and start the same command again."""
        self.stop()
        self.process, self._relay = self._start()
        self._stopped = False

    def stop(self) -> None:
        """Stop its whole process group and flush what it still had to say; once per run."""
        if self._stopped:
            return
        # Once only: after the group is gone, its id may belong to someone else's processes.
        self._stopped = True
        end_group(self.process)
        self._relay.join(timeout=2.0)
        if self.process.stdout is not None:
            self.process.stdout.close()


def wait_for_quiet(quiet: float, longest: float) -> None:
    """Wait until no child has printed for `quiet` seconds, or `longest` seconds have passed."""
    deadline = time.monotonic() + longest
    while (now := time.monotonic()) < deadline and now - _last_relayed[0] < quiet:
        time.sleep(0.1)


def _prefix(name: str) -> str:
    label = name.ljust(NAME_WIDTH)
    if sys.stdout.isatty():
        label = f"\033[{next(COLORS)}m{label}\033[0m"
    return f"{label} | "
