"""The whole system as processes, for the end-to-end benchmarks.

It is chaos's stack (tests/chaos/stack.py) started for measuring rather than for faults:
Flower runs as devstack runs it (its event handling costs the workers CPU too), the mail
server is devstack's sink in a process of its own so its CPU can be told apart, housekeeping
runs at production's intervals, and the general worker's concurrency is chosen per run. The
dispatcher is the gate: orders placed while it is down wait in SQS.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.cpu import Roots, listening_pid
from bench.noop_chain import queue_name
from devstack.commands import app_commands, celery_worker, flower_environment
from devstack.processes import free_port, log_tail
from devstack.services import RunningService, http_ok, start_smtp_sink
from settings import Settings
from tests.chaos.processes import Proc
from tests.chaos.stack import (
    Services,
    chaos_settings,
    empty_logs,
    make_procs,
    service_settings,
    set_up_and_start_intake,
    stack_environment,
    start_consuming,
    start_services,
    wait_ready,
)
from tests.infra import running

GATE = "dispatcher"
CONSUMERS = ("worker", "payments", "beat")
# The dispatcher logs this just before its first poll of SQS.
GATE_OPEN = b"dispatcher polling"
GATE_TIMEOUT = 60.0
# Longer than any run: see bench_settings.
LEASE_SECONDS = 3600.0
# The rows of the per-process CPU table, in the order of an order's path.
PROCESSES = (
    "intake",
    "dispatcher",
    "worker",
    "payments",
    "beat",
    "moto",
    "smtp sink",
    "payment sandbox",
    "postgres",
    "redis",
)
FLOWER = "flower"


def bench_settings(base: Settings, **services: object) -> Settings:
    """Chaos's settings, with production's housekeeping and payments threads."""
    default = {name: info.default for name, info in Settings.model_fields.items()}
    keep = ("watchdog_interval", "step_sla_seconds", "backorder_retry_interval")
    return chaos_settings(base, **services).model_copy(
        update={name: default[name] for name in (*keep, "payments_concurrency")}
        # Placing a backlog at once is the benchmark's device, not a load the lease is sized
        # for: with 40 s, tasks still queued behind the backlog would be published again and
        # run twice, and the figures would measure that.
        | {"follow_up_lease_seconds": LEASE_SECONDS}
    )


@dataclass
class BenchStack:
    """Where the system answers, its processes, and how to run the pipeline per worker count."""

    settings: Settings
    api: str
    env: dict[str, str]
    logs: Path
    runtime: Path
    services: Services
    smtp: RunningService
    stop: contextlib.ExitStack
    intake_port: int
    procs: dict[str, Proc] = field(default_factory=dict)
    server_pids: dict[str, int | None] = field(default_factory=dict)

    def start_consumers(self, concurrency: int) -> None:
        """Workers and beat, the general worker at `concurrency`, consuming; the gate shut."""
        commands = app_commands(
            self.intake_port, free_port(), self.runtime, self.settings, concurrency
        )
        wanted = {name: commands[name] for name in (GATE, *CONSUMERS)}
        fresh = make_procs(wanted, self.env, self.logs, self.stop, skip=frozenset())
        self.procs |= fresh
        start_consuming([fresh[name] for name in CONSUMERS])

    def open_gate(self) -> None:
        """Start the dispatcher; return within a few milliseconds of its first poll of SQS."""
        proc = self.procs[GATE]
        proc.start()
        deadline = time.monotonic() + GATE_TIMEOUT
        while not proc.logged_since_start(GATE_OPEN):
            if proc.exit_code() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dispatcher did not start polling{log_tail(proc.log)}")
            time.sleep(0.01)

    def close_gate(self) -> None:
        """Stop the dispatcher: orders placed from now on wait in SQS."""
        self.procs[GATE].stop()

    def stop_pipeline(self) -> None:
        """Stop the dispatcher, the workers and beat."""
        for name in (GATE, *CONSUMERS):
            self.procs[name].stop()

    def start_noop_worker(self, concurrency: int) -> Proc:
        """A worker of the no-op chain with the general worker's flags, consuming."""
        queue = queue_name(self.settings.celery_queue_prefix)
        pool = ("--concurrency", str(concurrency))
        events = self.settings.worker_events
        argv = celery_worker([queue], "noop", *pool, app="bench.noop_chain", events=events)
        proc = make_procs({"noop": argv}, self.env, self.logs, self.stop, skip=frozenset())["noop"]
        start_consuming([proc])
        return proc

    def cpu_groups(self) -> dict[str, Roots]:
        """The processes behind each row of the CPU table, and Flower's."""

        def proc(name: str) -> Roots:
            # Looked up when read: the pipeline's processes are new for every worker count.
            return lambda: [self.procs[name].pid] if name in self.procs else []

        fixed = {
            "moto": self.services.moto.pid,
            "smtp sink": self.smtp.pid,
            "payment sandbox": self.services.sandbox.pid,
            **self.server_pids,
        }
        groups = {name: proc(name) for name in ("intake", GATE, *CONSUMERS, FLOWER)}
        groups |= {name: partial(lambda pid: [pid], pid) for name, pid in fixed.items()}
        return groups


@contextlib.contextmanager
def running_bench_stack(
    logs: Path, embedded_postgres: bool = False, worker_events: bool = True
) -> Iterator[BenchStack]:
    """The services, the intake and Flower, up; the pipeline waits for start_consumers().

    PostgreSQL is the local server when it answers, unless `embedded_postgres` asks for a
    server of the benchmark's own: then its row of the CPU table holds only this run's work.
    Without `worker_events` the workers send Flower nothing (WORKER_EVENTS=false).
    """
    empty_logs(logs)
    with contextlib.ExitStack() as stop:
        runtime = Path(stop.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        base = Settings(test_embedded=True) if embedded_postgres else None
        services = start_services(stop, base=base)
        smtp = stop.enter_context(running(start_smtp_sink(runtime / "maildir")))
        intake_port = free_port()
        api = f"http://127.0.0.1:{intake_port}"
        port = int(smtp.url.rsplit(":", 1)[1])
        settings = bench_settings(Settings(), **service_settings(services, port, api))
        settings = settings.model_copy(update={"worker_events": worker_events})
        env = stack_environment(settings)
        stack = BenchStack(settings, api, env, logs, runtime, services, smtp, stop, intake_port)
        commands = app_commands(intake_port, free_port(), runtime, settings)
        stack.procs = make_procs({"intake": commands["intake"]}, env, logs, stop, frozenset())
        set_up_and_start_intake(env, stack.procs, logs, api, geodata=False)
        _start_flower(stack, commands[FLOWER])
        stack.server_pids = {
            "postgres": listening_pid(make_url(services.database).port or 5432),
            "redis": listening_pid(services.redis.port),
        }
        yield stack


def _start_flower(stack: BenchStack, argv: list[str]) -> None:
    env = flower_environment(stack.env, stack.settings)
    flower = make_procs({FLOWER: argv}, env, stack.logs, stack.stop, frozenset())[FLOWER]
    stack.procs[FLOWER] = flower
    flower.start()
    port = next(word.split("=", 1)[1] for word in argv if word.startswith("--port="))
    wait_ready(lambda: http_ok(f"http://127.0.0.1:{port}/healthcheck"), flower)
