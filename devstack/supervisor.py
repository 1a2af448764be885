"""Keep a running stack up: crashed app processes come back after a backoff."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devstack.children import Child, say
from devstack.processes import RunningService, log_tail
from devstack.restart_policy import RestartPolicy

POLL_SECONDS = 0.5


@dataclass
class _Supervised:
    child: Child
    started_at: float
    policy: RestartPolicy = field(default_factory=RestartPolicy)
    restart_at: float | None = None


class Supervisor:
    """Restarts long-running children that die; restarts or reports embedded services."""

    def __init__(
        self,
        long_running: list[Child],
        services: list[RunningService],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch these children and services; a restarted service replaces its list entry."""
        self._clock = clock
        self._supervised = [_Supervised(child, clock()) for child in long_running]
        self._services = services

    def supervises(self, child: Child) -> bool:
        """Whether `child` is one of the long-running children kept up."""
        return any(entry.child is child for entry in self._supervised)

    def check(self) -> str | None:
        """Restart whatever is due; why the whole stack must stop, or None to carry on."""
        now = self._clock()
        for entry in self._supervised:
            self._check_child(entry, now)
        return self._check_services()

    def _check_child(self, entry: _Supervised, now: float) -> None:
        child = entry.child
        if entry.restart_at is None:
            code = child.exit_code()
            if code is None:
                return
            # Its group goes too (gunicorn workers, a Celery pool), and its last words print.
            child.stop()
            delay = entry.policy.delay_after_crash(now - entry.started_at)
            entry.restart_at = now + delay
            say(
                f"devstack: {child.name} exited unexpectedly ({how_it_ended(code)}); "
                f"restarting it in {delay:.1f} s{_crash_loop_note(entry.policy)}"
            )
        elif now >= entry.restart_at:
            child.restart()
            entry.started_at, entry.restart_at = now, None
            say(f"devstack: {child.name} restarted (pid {child.process.pid})")

    def _check_services(self) -> str | None:
        for index, service in enumerate(self._services):
            code = None if service.process is None else service.process.poll()
            if code is None:
                continue
            ended = f"the embedded {service.name} died ({how_it_ended(code)})"
            if service.restart is None:
                # PostgreSQL, SQS and the sandbox hold the stack's state: a fresh one would
                # serve a stack that no longer adds up, so stop and show why it died.
                return f"{ended}; the stack cannot run on without it{log_tail(service.log)}"
            say(f"devstack: {ended}; starting a new one at {service.url}")
            service.stop()
            self._services[index] = service.restart()
            say(f"devstack: {service.name} answers at {service.url} again")
        return None


def watch(
    supervisor: Supervisor,
    everyone: list[Child],
    stopping: threading.Event,
    when_finished: Callable[[Child, int], None] | None = None,
) -> int:
    """Keep the stack up until a stop is asked for (0) or it cannot go on (1).

    A child that is not kept up (the demo) is reported when it ends, then `when_finished` runs.
    """
    finished: set[str] = set()
    while not stopping.wait(POLL_SECONDS):
        if (reason := supervisor.check()) is not None:
            say(f"devstack: {reason}")
            return 1
        for child in everyone:
            if supervisor.supervises(child) or child.name in finished:
                continue
            if (code := child.exit_code()) is not None:
                finished.add(child.name)
                say(f"devstack: {child.name} finished with exit code {code}")
                if when_finished is not None:
                    when_finished(child, code)
    return 0


def how_it_ended(code: int) -> str:
    """`exited with code 3`, or `killed by SIGKILL` for a negative return code."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _crash_loop_note(policy: RestartPolicy) -> str:
    if policy.crashes_in_a_row < 2:
        return ""
    return (
        f" (crash {policy.crashes_in_a_row} in a row: it is restarted for as long as the"
        f" runner runs, waits growing to {policy.longest_delay:.0f} s)"
    )
