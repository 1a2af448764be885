"""SIGTERM to the dispatcher process mid-batch: it finishes the batch, deletes it and exits 0."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from devstack.commands import app_commands
from devstack.processes import REPO_ROOT, log_tail, spawn, stop_group
from models.domain.clock import utcnow
from models.domain.messages import OrderPlaced
from models.tables.orders import Order
from settings import Settings, as_environment, child_environment
from tests.integration.test_dispatcher import placed_order
from workers.adapters.sqs import OrdersQueue, sqs_client

GRACE_SECONDS = 20
# Longer than the dispatcher's old fixed three seconds of patience.
LOCK_HELD_AFTER_SIGTERM = 5.0
ORDERS = 4


@pytest.fixture
def own(settings: Settings) -> Settings:
    """Queues of this test's own; a message left undeleted would stay hidden past the test."""
    run = uuid.uuid4().hex[:8]
    own = settings.model_copy(
        update={
            "orders_queue": f"stop-{run}",
            "orders_dlq": f"stop-dlq-{run}",
            "celery_queue_prefix": f"d{run}-",
            "sqs_visibility_timeout": 120,
            "shutdown_grace_seconds": GRACE_SECONDS,
        }
    )
    OrdersQueue.from_settings(own, timeout=5).ensure(max_receive_count=5, visibility_timeout=120)
    return own


def waiting_on_a_lock(sessions: sessionmaker[Session]) -> bool:
    """Whether some connection to the test database waits for a row lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with sessions() as session:
        return bool(session.scalar(query))


def in_queue(own: Settings) -> int:
    """Messages visible or held by a consumer: anything not yet deleted."""
    client = sqs_client(own, timeout=5)
    url = client.get_queue_url(QueueName=own.orders_queue)["QueueUrl"]
    found = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    visible = int(found["ApproximateNumberOfMessages"])
    return visible + int(found["ApproximateNumberOfMessagesNotVisible"])


def dispatched(sessions: sessionmaker[Session], order_ids: list[str]) -> int:
    with sessions() as session:
        times = session.scalars(
            select(Order.dispatched_at).where(Order.id.in_([uuid.UUID(o) for o in order_ids]))
        )
        return sum(1 for at in times if at is not None)


def test_sigterm_mid_batch_finishes_and_deletes_the_batch_and_exits_0(
    own: Settings, client: FlaskClient, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    order_ids = [placed_order(client, sessions) for _ in range(ORDERS)]
    documents = [OrderPlaced(uuid.UUID(o), utcnow()).to_json() for o in order_ids]
    OrdersQueue.from_settings(own, timeout=5).publish_batch(documents)
    log = tmp_path / "dispatcher.log"
    env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
    with sessions() as blocker, blocker.begin():
        # The batch's transaction waits on this lock: the dispatcher is mid-batch.
        blocker.execute(select(Order).where(Order.id == uuid.UUID(order_ids[-1])).with_for_update())
        process = spawn(
            app_commands(0, 0, tmp_path, own)["dispatcher"], log, env=env, cwd=REPO_ROOT
        )
        try:
            deadline = time.monotonic() + 30
            while not waiting_on_a_lock(sessions):
                assert process.poll() is None, log_tail(log, 40)
                assert time.monotonic() < deadline, "the dispatcher never took the batch"
                time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            time.sleep(LOCK_HELD_AFTER_SIGTERM)
            assert process.poll() is None, f"it left its batch{log_tail(log, 40)}"
        except BaseException:
            stop_group(process)
            raise
    try:
        code = process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        stop_group(process)
        pytest.fail(f"the dispatcher did not exit{log_tail(log, 40)}")

    assert code == 0, log_tail(log, 40)
    assert dispatched(sessions, order_ids) == ORDERS
    assert in_queue(own) == 0
