"""Workers of both pools, and beat, carry on through a Redis restart or a dropped connection.

The workers and beat run as `make run` starts them (payments on a thread pool, the general
worker on prefork), against a Redis of the module's own that is killed and started again on
the same port with no persistence, as a broker restart in production loses its queues.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from celery import Celery
from celery.utils.nodenames import host_format
from kombu import pools
from psycopg.types.json import Jsonb

from devstack.commands import app_commands
from devstack.postgres import fresh_database, plain_url
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group
from devstack.services import RunningService, start_redis
from settings import Settings, as_environment, child_environment
from workers.celery_queues import PAYMENTS, queue_name

# The workers load these test tasks besides their own.
TASKS = "tests.integration.broker_tasks"
GENERAL = "maintenance"
HOLD_SECONDS = 3.0
DEADLINE_SECONDS = 30.0
# Beat sends it every few seconds here; the general worker takes it.
PERIODIC = "fulfillment.retry_backorders"
# As the relay leaves a row it has just published: due again only when its lease ends.
LEASED_ROW = """INSERT INTO outbox (topic, message_key, payload, dedupe_key, created_at, due_at,
attempts, published_at) VALUES ('task', %s, %s, %s, now(), now() + %s, 1, now())"""
# Far beyond the deadline: a task published before a restart must not wait for its lease.
LEASE_SECONDS = 600.0
# Relay rounds (2 s each) that leave a leased row alone while the broker keeps its data.
QUIET_SECONDS = 5.0


@dataclass
class Broker:
    """A Redis of the test's own, on a port that stays the same across restarts."""

    port: int
    service: RunningService

    @property
    def url(self) -> str:
        """Where the workers, beat and the test find it."""
        return self.service.url

    def restart(self, signum: signal.Signals) -> None:
        """Stop Redis with `signum`, then start an empty one on the same port."""
        process = self.service.process
        assert process is not None
        process.send_signal(signum)
        process.wait(timeout=10)
        self.service.stop()
        self.service = start_redis(self.port)

    def drop_connections(self) -> None:
        """Close every client's connection but keep the data, as a network fault would."""
        with contextlib.closing(redis.Redis.from_url(self.url)) as client:
            client.client_kill_filter(_type="normal", skipme=True)

    def waiting_consumers(self) -> int:
        """How many clients wait in a blocking pop: workers with room for more tasks."""
        with contextlib.closing(redis.Redis.from_url(self.url)) as client:
            return int(client.info("clients")["blocked_clients"])

    def unacknowledged(self) -> int:
        """How many delivered tasks wait for an ack, or else for the visibility timeout."""
        with contextlib.closing(redis.Redis.from_url(self.url)) as client:
            return int(client.hlen("unacked"))

    def stop(self) -> None:
        """Stop whichever Redis runs now."""
        self.service.stop()


@dataclass
class Stack:
    """The payments worker, the general worker and beat, and the files their tasks leave."""

    broker: Broker
    prefix: str
    folder: Path
    processes: dict[str, subprocess.Popen[bytes]]
    database: str

    @contextlib.contextmanager
    def client(self) -> Iterator[Celery]:
        """A Celery client of the broker that holds no connection from before a fault."""
        # kombu pools producers per broker URL for the whole process; after a restart those
        # are dead, and this test is about the workers, not about this process.
        pools.reset()
        client = Celery("broker-fault-test", broker=self.broker.url)
        try:
            yield client
        finally:
            client.close()

    def send(self, task: str, queue: str, *args: Any) -> None:
        """Send a task to the worker that takes `queue`."""
        with self.client() as client:
            client.send_task(
                task, args=[str(self.folder), *args], queue=queue_name(self.prefix, queue)
            )

    def published_and_leased(self, name: str) -> None:
        """An outbox row whose task the relay published just now, leased for LEASE_SECONDS."""
        payload = Jsonb({"task": "tests.mark", "args": [str(self.folder), name]})
        with psycopg.connect(plain_url(self.database), autocommit=True) as db:
            db.execute(LEASED_ROW, (name, payload, name, timedelta(seconds=LEASE_SECONDS)))

    def runs(self, name: str) -> int:
        """How often the test task called `name` has run (or started, or finished)."""
        path = self.folder / name
        return len(path.read_text().splitlines()) if path.exists() else 0

    def periodic_runs(self) -> int:
        """How many of beat's periodic tasks the general worker has taken, by its own count."""
        node = host_format("worker@%h")
        with self.client() as client:
            stats = client.control.inspect([node], timeout=2.0, limit=1).stats() or {}
        return stats[node]["total"].get(PERIODIC, 0) if node in stats else 0

    def new_work_runs_on_both_workers(self, label: str) -> None:
        """Send a task to each worker and wait until both have run it."""
        for queue in (PAYMENTS, GENERAL):
            self.send("tests.mark", queue, f"{label}-{queue}")
        self.wait_for(
            lambda: self.runs(f"{label}-{PAYMENTS}") and self.runs(f"{label}-{GENERAL}"),
            f"tasks sent {label} ran on both workers",
        )

    def hold_in_flight(self, label: str) -> list[str]:
        """Start two payments tasks and a general one that outlast the fault, and wait for them."""
        held = {f"{label}-{PAYMENTS}-{n}": PAYMENTS for n in range(2)} | {label: GENERAL}
        for name, queue in held.items():
            self.send("tests.hold", queue, name, HOLD_SECONDS)
        self.wait_for(lambda: all(self.runs(f"{name}.started") for name in held), "tasks started")
        # Both workers have room left and wait on Redis for more, as they mostly do in production.
        self.wait_for(lambda: self.broker.waiting_consumers() >= 2, "workers waiting for more")
        return list(held)

    def wait_for(self, condition: Callable[[], object], what: str) -> None:
        """Poll `condition` until it holds; fail at once if a process exits, or at the deadline."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            self.assert_running()
            if time.monotonic() > deadline:
                pytest.fail(f"{what}: not within {DEADLINE_SECONDS:.0f} s{self.logs()}")
            time.sleep(0.1)
        self.assert_running()

    def assert_running(self) -> None:
        """Fail, quoting its log, if a worker or beat exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                log = log_tail(self.folder / f"{name}.log", 60)
                pytest.fail(f"{name} exited with {process.returncode}{log}")

    def logs(self) -> str:
        """The end of every process's log."""
        return "".join(log_tail(self.folder / f"{name}.log") for name in self.processes)


def stop_together(processes: list[subprocess.Popen[bytes]]) -> None:
    """Ask every process group to stop at once, then wait for each (killing the stubborn)."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        stop_group(process)


@pytest.fixture(scope="module")
def stack(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Workers and beat on a Redis and a database of their own, with the test tasks loaded."""
    folder = tmp_path_factory.mktemp("broker-faults")
    with contextlib.ExitStack() as cleanup:
        port = free_port()
        broker = Broker(port, start_redis(port))
        cleanup.callback(broker.stop)
        # Beat's periodic tasks run for real, so they get an empty database of their own.
        database = cleanup.enter_context(fresh_database(settings.require_database_url()))
        own = settings.model_copy(
            update={
                "redis_url": broker.url,
                "database_url": database,
                "celery_queue_prefix": f"b{uuid.uuid4().hex[:8]}-",
                "payments_concurrency": 4,
                # Fewer periodic tasks than the test default, so the general worker has room.
                "backorder_retry_interval": 3.0,
                "low_stock_sweep_interval": 3.0,
                "follow_up_lease_seconds": LEASE_SECONDS,
            }
        )
        env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
        commands = app_commands(free_port(), free_port(), folder, own)
        include = ["--include", TASKS]
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for name, extra in (("payments", include), ("worker", include), ("beat", [])):
            argv = [*commands[name], *extra]
            processes[name] = spawn(argv, folder / f"{name}.log", env=env, cwd=REPO_ROOT)
        cleanup.callback(stop_together, list(processes.values()))
        ready = Stack(broker, own.celery_queue_prefix, folder, processes, database)
        ready.new_work_runs_on_both_workers("at-start")
        ready.wait_for(lambda: ready.periodic_runs() > 0, "beat's periodic task ran")
        yield ready


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_workers_of_both_pools_and_beat_carry_on_after_redis_restarts(
    stack: Stack, signum: signal.Signals
) -> None:
    label = f"restart-{signum.name}"
    periodic_before = stack.periodic_runs()
    held = stack.hold_in_flight(label)

    stack.broker.restart(signum)

    stack.new_work_runs_on_both_workers(f"after-{label}")
    stack.wait_for(lambda: stack.periodic_runs() > periodic_before, "beat's task ran again")
    stack.wait_for(lambda: all(stack.runs(f"{n}.done") for n in held), "tasks in flight finished")


def test_no_task_in_flight_is_lost_when_the_connection_drops(stack: Stack) -> None:
    held = stack.hold_in_flight("drop")

    stack.broker.drop_connections()

    stack.new_work_runs_on_both_workers("after-drop")
    stack.wait_for(lambda: all(stack.runs(f"{n}.done") for n in held), "tasks in flight finished")
    # Redis kept the unacknowledged tasks: each was acked after all, or put back and run again,
    # rather than left for the visibility timeout (an hour) to bring back.
    stack.wait_for(lambda: stack.broker.unacknowledged() == 0, "no task left unacknowledged")


def test_a_task_the_broker_lost_with_its_queues_runs_again_without_waiting_for_its_lease(
    stack: Stack,
) -> None:
    stack.published_and_leased("leased")
    time.sleep(QUIET_SECONDS)
    assert stack.runs("leased") == 0  # while Redis keeps its data, the lease stands

    stack.broker.restart(signal.SIGKILL)

    stack.wait_for(lambda: stack.runs("leased"), "the task lost with the broker ran again")
