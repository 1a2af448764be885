"""SIGTERM to a real worker: what it runs finishes, what it has not started goes back, in time.

Each worker runs as `make run` starts it (the general one on prefork, payments on threads),
under a node name of the test's own, with the test tasks of broker_tasks.py loaded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devstack.commands import app_commands
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group
from models.tables.fulfilment import Payment
from models.tables.orders import Order
from settings import Settings, as_environment, child_environment
from tests.integration.stripe_support import faults
from tests.integration.test_pipeline import allocate_order, place
from workers.celery_queues import PAYMENTS, queue_name

TASKS = "tests.integration.broker_tasks"
GRACE_SECONDS = 20
DEADLINE_SECONDS = 30.0


class Worker:
    """A worker process of the test's own, and a client to reach it."""

    def __init__(self, own: Settings, folder: Path, name: str) -> None:
        self.own, self.folder, self.log = own, folder, folder / f"{name}.log"
        self.node = f"{name}-{uuid.uuid4().hex[:6]}@{uuid.uuid4().hex[:6]}"
        argv = app_commands(free_port(), free_port(), folder, own)[name]
        argv[argv.index("-n") + 1] = self.node
        env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
        self.process = spawn([*argv, "--include", TASKS], self.log, env=env, cwd=REPO_ROOT)
        self.client = Celery("shutdown-test", broker=own.require_redis_url())

    def send(self, task: str, queue: str, *args: object, countdown: float | None = None) -> None:
        """Send a task to one of this worker's queues."""
        prefixed = queue_name(self.own.celery_queue_prefix, queue)
        self.client.send_task(task, args=list(args), queue=prefixed, countdown=countdown)

    def inspect(self, method: str) -> list[dict[str, object]]:
        """What `celery inspect <method>` says of this worker (active, scheduled...)."""
        inspector = self.client.control.inspect([self.node], timeout=1.0)
        answer = getattr(inspector, method)() or {}
        return list(answer.get(self.node, []))

    def wait_for(self, condition: Callable[[], object], what: str) -> None:
        """Poll until `condition` holds; fail with the log if the worker exits or time runs out."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not condition():
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what}: not so (exit {self.process.poll()}){log_tail(self.log, 60)}")
            time.sleep(0.2)

    def terminate(self) -> tuple[int, float]:
        """SIGTERM to the worker's main process: its exit code, and how long it took."""
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=GRACE_SECONDS + 15)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not exit{log_tail(self.log, 60)}")
        return code, time.monotonic() - started


@pytest.fixture
def own(settings: Settings) -> Settings:
    """Queues of this test's own, and the grace the workers are given."""
    return settings.model_copy(
        update={
            "celery_queue_prefix": f"s{uuid.uuid4().hex[:8]}-",
            "shutdown_grace_seconds": GRACE_SECONDS,
            "payments_concurrency": 4,
        }
    )


@contextlib.contextmanager
def running(own: Settings, folder: Path, name: str) -> Iterator[Worker]:
    worker = Worker(own, folder, name)
    try:
        worker.wait_for(lambda: worker.client.control.ping([worker.node], timeout=0.5), "up")
        yield worker
    finally:
        worker.client.close()
        stop_group(worker.process)


def waiting(own: Settings, queue: str) -> int:
    with contextlib.closing(redis.Redis.from_url(own.require_redis_url())) as client:
        return int(client.llen(queue_name(own.celery_queue_prefix, queue)))


def runs(folder: Path, name: str) -> int:
    path = folder / name
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_sigterm_mid_task_lets_the_task_finish_and_the_worker_exit_0(
    own: Settings, tmp_path: Path
) -> None:
    with running(own, tmp_path, "worker") as worker:
        worker.send("tests.hold", "allocation", str(tmp_path), "slow", 3.0)
        worker.wait_for(lambda: runs(tmp_path, "slow.started"), "the task started")

        code, took = worker.terminate()

        assert code == 0, log_tail(worker.log, 60)
        assert runs(tmp_path, "slow.done") == 1
        assert took < GRACE_SECONDS
        assert waiting(own, "allocation") == 0


def test_sigterm_mid_charge_on_the_thread_pool_still_records_the_payment(
    own: Settings,
    tmp_path: Path,
    client: FlaskClient,
    sessions: sessionmaker[Session],
    product: str,
) -> None:
    order_id = place(client, [(product, 1)])
    allocate_order(sessions, order_id)
    gateway = own.payment_api_base or ""
    with faults(gateway, latency=1.0), running(own, tmp_path, "payments") as worker:
        worker.send("fulfillment.charge", PAYMENTS, str(order_id))
        worker.wait_for(lambda: worker.inspect("active"), "the charge is running")

        code, _ = worker.terminate()

    assert code == 0, log_tail(worker.log, 60)
    with sessions() as session:
        assert session.scalar(select(Order.status).where(Order.id == order_id)) == "paid"
        payment = session.scalar(select(Payment).where(Payment.order_id == order_id))
        assert payment is not None
        # Recorded: held on the card (PAYMENT_CAPTURE=at_shipment) until the order ships.
        assert payment.status == "authorized"
        assert payment.gateway_id is not None


def test_a_task_received_but_not_started_goes_back_to_its_queue(
    own: Settings, tmp_path: Path
) -> None:
    with running(own, tmp_path, "worker") as worker:
        worker.send("tests.mark", "shipping", str(tmp_path), "later", countdown=120)
        worker.wait_for(lambda: worker.inspect("scheduled"), "the worker holds the task")

        code, took = worker.terminate()

        assert code == 0, log_tail(worker.log, 60)
        assert took < GRACE_SECONDS
        assert runs(tmp_path, "later") == 0
        assert waiting(own, "shipping") == 1


def test_a_task_still_running_when_the_grace_ends_goes_back_to_its_queue(
    own: Settings, tmp_path: Path
) -> None:
    short = own.model_copy(update={"shutdown_grace_seconds": 2})
    with running(short, tmp_path, "worker") as worker:
        worker.send("tests.hold", "allocation", str(tmp_path), "endless", 60.0)
        worker.wait_for(lambda: runs(tmp_path, "endless.started"), "the task started")

        _, took = worker.terminate()

        assert took < 2.0 + 10.0, log_tail(worker.log, 60)
        assert runs(tmp_path, "endless.done") == 0
        assert waiting(short, "allocation") == 1


def test_sigterm_to_the_whole_group_ends_a_prefork_task_but_puts_it_back(
    own: Settings, tmp_path: Path
) -> None:
    with running(own, tmp_path, "worker") as worker:
        worker.send("tests.hold", "allocation", str(tmp_path), "cut", 3.0)
        worker.wait_for(lambda: runs(tmp_path, "cut.started"), "the task started")

        os.killpg(worker.process.pid, signal.SIGTERM)
        code = worker.process.wait(timeout=GRACE_SECONDS)

        assert code == 0, log_tail(worker.log, 60)
        assert runs(tmp_path, "cut.done") == 0
        assert waiting(own, "allocation") == 1
