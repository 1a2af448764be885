"""Flower as `make run` starts it (workers/flower.py), beside a real worker, on a real Redis."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from celery import Celery

from devstack.commands import app_commands, flower_environment
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group
from devstack.services import http_ok
from settings import Settings, as_environment, child_environment
from workers.celery_queues import PAYMENTS, QUEUES, queue_name

# Tasks left on the payments queue, which no worker of this test consumes.
WAITING = 3
DEADLINE_SECONDS = 40.0


def wait_for(condition: Callable[[], Any], what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert process.poll() is None, f"{what}: exited with {process.returncode}"
        assert time.monotonic() < deadline, f"{what}: not within {DEADLINE_SECONDS:.0f} s"
        time.sleep(0.1)


@pytest.fixture
def own(settings: Settings) -> Settings:
    return settings.model_copy(update={"celery_queue_prefix": f"f{uuid.uuid4().hex[:8]}-"})


@pytest.fixture
def node(own: Settings, tmp_path: Path) -> Iterator[str]:
    """The general worker, as `make run` starts it but under a name of its own, up and answering."""
    name = f"worker-{uuid.uuid4().hex[:8]}@flower-test"
    argv = app_commands(free_port(), free_port(), tmp_path, own)["worker"]
    argv[argv.index("-n") + 1] = name
    env = child_environment(as_environment(own) | {"PYTHONUNBUFFERED": "1"})
    process = spawn(argv, tmp_path / "worker.log", env=env, cwd=REPO_ROOT)
    client = Celery("flower-test", broker=own.require_redis_url())
    try:
        wait_for(lambda: client.control.ping([name], timeout=0.5), "the worker answers", process)
        for _ in range(WAITING):
            client.send_task(
                "fulfillment.watchdog", queue=queue_name(own.celery_queue_prefix, PAYMENTS)
            )
        yield name
    finally:
        client.close()
        stop_group(process)


@pytest.fixture
def flower(own: Settings, node: str, tmp_path: Path) -> Iterator[str]:
    """Flower started after the worker; its URL once its health check answers."""
    port = free_port()
    argv = app_commands(free_port(), port, tmp_path, own)["flower"]
    env = flower_environment(child_environment(as_environment(own)), own)
    log = tmp_path / "flower.log"
    process = spawn(argv, log, env=env, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/healthcheck"), f"Flower answers{log_tail(log)}", process)
        yield url
    finally:
        stop_group(process)


def login(own: Settings) -> tuple[str, str]:
    return own.flower_user, own.flower_password.get_secret_value()


def test_the_first_look_at_the_workers_lists_the_running_worker(
    flower: str, node: str, own: Settings
) -> None:
    first = requests.get(f"{flower}/api/workers", auth=login(own), timeout=20)

    assert first.status_code == 200
    assert node in first.json()


def test_the_first_look_at_the_dashboard_lists_the_running_worker(
    flower: str, node: str, own: Settings
) -> None:
    first = requests.get(f"{flower}/workers?json=1", auth=login(own), timeout=20)

    assert node in {worker["hostname"] for worker in first.json()["data"]}


def test_queue_lengths_count_every_queue_even_one_no_running_worker_takes(
    flower: str, node: str, own: Settings
) -> None:
    workers = requests.get(f"{flower}/api/workers", auth=login(own), timeout=20).json()
    assert PAYMENTS not in str(workers[node]["active_queues"])  # nobody consumes it

    answer = requests.get(f"{flower}/api/queues/length", auth=login(own), timeout=20)

    lengths = {queue["name"]: queue["messages"] for queue in answer.json()["active_queues"]}
    prefix = own.celery_queue_prefix
    assert {queue_name(prefix, name) for name in QUEUES} <= set(lengths)
    assert lengths[queue_name(prefix, PAYMENTS)] == WAITING


def test_the_broker_page_shows_the_waiting_tasks(flower: str, own: Settings) -> None:
    page = requests.get(f"{flower}/broker", auth=login(own), timeout=20)

    assert page.status_code == 200
    assert queue_name(own.celery_queue_prefix, PAYMENTS) in page.text


def test_without_the_login_flower_answers_401_even_for_its_metrics(flower: str) -> None:
    paths = ["/metrics", "/api/workers", "/api/queues/length", "/broker", "/workers"]
    answers = {path: requests.get(f"{flower}{path}", timeout=10).status_code for path in paths}

    assert answers == dict.fromkeys(paths, 401)
    assert requests.get(f"{flower}/healthcheck", timeout=10).status_code == 200
