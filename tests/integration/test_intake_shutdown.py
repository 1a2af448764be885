"""SIGTERM to the intake's gunicorn mid-request: the request is answered, then it exits 0."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from devstack.commands import web_server
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group, wait_until
from devstack.services import http_ok
from models.tables.outbox import Outbox
from settings import Settings, as_environment, child_environment
from tests.factories import add_product, order_body
from tests.integration.test_dispatcher_shutdown import waiting_on_a_lock
from tests.keyed_client import sf_key

GRACE_SECONDS = 20
HELD_AFTER_SIGTERM = 2.0


def test_sigterm_mid_request_answers_it_publishes_its_message_and_exits_0(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    own = settings.model_copy(update={"shutdown_grace_seconds": GRACE_SECONDS})
    port, log = free_port(), tmp_path / "intake.log"
    env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
    process = spawn(web_server(port, "intake:create_app()"), log, env=env, cwd=REPO_ROOT)
    base = f"http://127.0.0.1:{port}"
    answers: list[requests.Response] = []
    try:
        wait_until(lambda: http_ok(f"{base}/healthz"), 30, "the intake answers", process, log)
        product = add_product(sessions)
        with sessions() as blocker, blocker.begin():
            # Placing an order reads the catalogue, so the request waits on this lock.
            blocker.execute(text("LOCK TABLE product IN ACCESS EXCLUSIVE MODE"))
            post = threading.Thread(target=lambda: answers.append(place(base, product)))
            post.start()
            deadline = time.monotonic() + 30
            while not waiting_on_a_lock(sessions):
                assert time.monotonic() < deadline, f"no request waited{log_tail(log, 40)}"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            time.sleep(HELD_AFTER_SIGTERM)
            assert process.poll() is None, f"it left the request{log_tail(log, 40)}"
        post.join(timeout=GRACE_SECONDS)
        code = process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the intake did not exit{log_tail(log, 40)}")
    finally:
        stop_group(process)

    assert code == 0, log_tail(log, 40)
    assert [answer.status_code for answer in answers] == [202]
    order_id = answers[0].json()["order_id"]
    with sessions() as session:
        published = session.scalar(
            select(Outbox.published_at).where(Outbox.message_key == order_id)
        )
    assert published is not None, "the message was left to the relay"


def place(base: str, product: str) -> requests.Response:
    return requests.post(
        f"{base}/orders",
        json=order_body([(product, 1)]),
        headers={"Idempotency-Key": sf_key()},
        timeout=GRACE_SECONDS,
    )
