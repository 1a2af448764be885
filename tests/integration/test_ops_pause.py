"""`flask --app intake ops pause|resume|paused` with a real worker, Redis and PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.utils.nodenames import host_format
from flask import Flask
from sqlalchemy import delete, select

from bootstrap import Context
from devstack.commands import app_commands
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group
from intake import create_app
from models.domain.follow_ups import FollowUp
from models.domain.tasks import ALLOCATE, QUEUE_TASKS, STEP_QUEUES
from models.services.relay import relay
from models.store.follow_ups import later
from models.tables.operations import PausedQueue
from models.tables.outbox import Outbox
from settings import Settings, as_environment, child_environment
from workers.celery_queues import QUEUES, queue_name

NODE = host_format("worker@%h")
DEADLINE_SECONDS = 30.0


@pytest.fixture
def own(settings: Settings, context: Context) -> Iterator[Settings]:
    """Queues of this test's own; no pause outlives the test."""
    yield settings.model_copy(update={"celery_queue_prefix": f"p{uuid.uuid4().hex[:8]}-"})
    with context.work() as session:
        session.execute(delete(PausedQueue))


@pytest.fixture
def ops_app(own: Settings, context: Context) -> Flask:
    return create_app(own, dataclasses.replace(context, settings=own))


def ops(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["ops", *args])
    return result.exit_code, result.output.strip()


def wait_for(condition: Callable[[], object], what: str, log: Path) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {DEADLINE_SECONDS:.0f} s{log_tail(log, 60)}")
        time.sleep(0.2)


@contextlib.contextmanager
def worker(own: Settings, folder: Path) -> Iterator[Celery]:
    """The general worker as `make run` starts it, with the test's marking task; a client."""
    argv = [*app_commands(free_port(), free_port(), folder, own)["worker"], "--include",
            "tests.integration.broker_tasks"]  # fmt: skip
    env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
    process: subprocess.Popen[bytes] = spawn(argv, folder / "worker.log", env=env, cwd=REPO_ROOT)
    client = Celery("pause-test", broker=own.require_redis_url())
    try:
        wait_for(
            lambda: client.control.ping([NODE], timeout=0.5), "worker up", folder / "worker.log"
        )
        yield client
    finally:
        client.close()
        stop_group(process)


def consumed(client: Celery, own: Settings) -> set[str]:
    active = client.control.inspect([NODE], timeout=2.0).active_queues() or {}
    prefix = own.celery_queue_prefix
    return {q["name"].removeprefix(prefix) for q in active.get(NODE, [])}


def mark(client: Celery, own: Settings, folder: Path, name: str) -> None:
    queue = queue_name(own.celery_queue_prefix, "allocation")
    client.send_task("tests.mark", args=[str(folder), name], queue=queue)


def waiting(own: Settings, queue: str) -> int:
    with contextlib.closing(redis.Redis.from_url(own.require_redis_url())) as client:
        return int(client.llen(queue_name(own.celery_queue_prefix, queue)))


def test_a_paused_step_keeps_its_tasks_waiting_and_runs_them_once_resumed(
    ops_app: Flask, own: Settings, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    with worker(own, tmp_path) as client:
        assert "allocation" in consumed(client, own)

        paused = ops(ops_app, "pause", "allocate", "--reason", "warehouse system down")
        mark(client, own, tmp_path, "held")
        time.sleep(2.0)
        listed = ops(ops_app, "paused")

        assert paused == (0, f"paused queue allocation (steps allocate); workers told: {NODE}")
        assert "allocation" not in consumed(client, own)
        assert {"shipping", "notifications"} <= consumed(client, own)
        assert not (tmp_path / "held").exists()
        assert waiting(own, "allocation") == 1  # in Redis, not lost
        assert "warehouse system down" in listed[1]
        assert NODE in listed[1]

        resumed = ops(ops_app, "resume", "allocate")
        wait_for((tmp_path / "held").exists, "the held task ran", log)

        assert resumed == (0, f"resumed queue allocation (steps allocate); workers told: {NODE}")
        assert "allocation" in consumed(client, own)
        assert (tmp_path / "held").read_text() == "ran\n"
        assert ops(ops_app, "paused") == (0, "(none)")


def test_a_worker_started_while_a_step_is_paused_leaves_its_queue_until_resumed(
    ops_app: Flask, own: Settings, tmp_path: Path
) -> None:
    assert ops(ops_app, "pause", "allocate", "--reason", "stock count")[0] == 0
    log = tmp_path / "worker.log"
    with worker(own, tmp_path) as client:
        mark(client, own, tmp_path, "later")
        time.sleep(2.0)

        assert "allocation" not in consumed(client, own)
        assert not (tmp_path / "later").exists()
        assert NODE in ops(ops_app, "paused")[1]

        assert ops(ops_app, "resume", "allocate")[0] == 0
        wait_for((tmp_path / "later").exists, "the held task ran", log)


class Sent:
    """A publisher that notes what the relay hands it, as the broker would take it."""

    topics = frozenset({"task"})

    def __init__(self) -> None:
        self.ids: list[int] = []

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        self.ids.extend(f.id for f in follow_ups)


def test_the_relay_holds_a_paused_steps_follow_ups_unspent_and_sends_them_once_resumed(
    ops_app: Flask, context: Context
) -> None:
    subject = str(uuid.uuid4())
    with context.work() as session:
        row = later(session, ALLOCATE, subject)
    assert row is not None
    assert ops(ops_app, "pause", "allocate", "--reason", "test")[0] == 0
    sent = Sent()

    relay(context.sessions, sent, lease_seconds=30, on_give_up=lambda *_: None, limit=10_000)
    with context.sessions() as session:
        attempts = session.scalar(select(Outbox.attempts).where(Outbox.id == row.id))

    assert row.id not in sent.ids
    assert attempts == row.attempts  # nothing spent: a long pause gives nothing up

    assert ops(ops_app, "resume", "allocate")[0] == 0
    relay(context.sessions, sent, lease_seconds=30, on_give_up=lambda *_: None, limit=10_000)
    assert row.id in sent.ids


def test_pausing_twice_is_one_pause_and_resuming_what_is_not_paused_exits_1(
    ops_app: Flask,
) -> None:
    first = ops(ops_app, "pause", "ship", "--reason", "carrier outage")
    again = ops(ops_app, "pause", "ship", "--reason", "carrier outage")
    resumed = ops(ops_app, "resume", "ship")
    not_paused = ops(ops_app, "resume", "ship")
    unknown = ops(ops_app, "pause", "teleport", "--reason", "x")

    assert first == (0, "paused queue shipping (steps ship); workers told: none running")
    assert again[1].startswith("still paused queue shipping")
    assert resumed[0] == 0
    assert not_paused == (1, "Error: queue shipping of ship is not paused")
    assert unknown[0] == 2


def test_every_step_queue_is_routed_as_the_pause_assumes(settings: Settings) -> None:
    import celeryconfig  # noqa: PLC0415 - needs the broker settings the test run has set

    prefix = settings.celery_queue_prefix
    assert set(STEP_QUEUES.values()) <= set(QUEUES)
    for queue, tasks in QUEUE_TASKS.items():
        for task in tasks:
            assert celeryconfig.task_routes[task]["queue"] == f"{prefix}{queue}", task
