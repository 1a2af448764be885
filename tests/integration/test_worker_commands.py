"""The local stack runs payments on a thread-pool worker of its own, apart from every other step."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devstack.commands import app_commands
from settings import Settings
from workers.celery_queues import PAYMENTS, QUEUES, queue_name

PREFIX = "shop-7-"


@pytest.fixture
def commands(tmp_path: Path) -> dict[str, list[str]]:
    settings = Settings(celery_queue_prefix=PREFIX, payments_concurrency=24)
    return app_commands(8000, 5555, tmp_path, settings)


def option(argv: list[str], flag: str) -> str | None:
    """The value after `flag`, if the command has it."""
    return next((argv[i + 1] for i, word in enumerate(argv[:-1]) if word == flag), None)


def queues_of(argv: list[str]) -> list[str]:
    return (option(argv, "-Q") or "").split(",")


def test_the_payments_worker_overlaps_gateway_waits_with_the_configured_threads(
    commands: dict[str, list[str]],
) -> None:
    payments = commands["payments"]

    assert option(payments, "-A") == "workers.app"
    assert "worker" in payments
    assert option(payments, "--pool") == "threads"
    assert option(payments, "--concurrency") == "24"
    assert queues_of(payments) == [f"{PREFIX}payments"]


def test_the_general_worker_takes_every_other_queue_and_not_payments(
    commands: dict[str, list[str]],
) -> None:
    general = queues_of(commands["worker"])

    assert f"{PREFIX}payments" not in general
    assert sorted(general) == sorted(f"{PREFIX}{name}" for name in QUEUES if name != PAYMENTS)
    assert option(commands["worker"], "--pool") is None, "the general worker stays on prefork"


def test_every_queue_has_exactly_one_worker(commands: dict[str, list[str]]) -> None:
    consumed = queues_of(commands["worker"]) + queues_of(commands["payments"])

    assert sorted(consumed) == sorted(queue_name(PREFIX, name) for name in QUEUES)


def test_the_workers_have_distinct_node_names_and_send_events_for_flower(
    commands: dict[str, list[str]],
) -> None:
    names = {option(commands[name], "-n") for name in ("worker", "payments")}

    assert names == {"worker@%h", "payments@%h"}
    assert all("-E" in commands[name] for name in ("worker", "payments"))


def test_without_worker_events_the_workers_send_flower_nothing(tmp_path: Path) -> None:
    quiet = app_commands(8000, 5555, tmp_path, Settings(worker_events=False))

    assert not any("-E" in quiet[name] for name in ("worker", "payments"))
    # The rest of the command is as it was.
    assert option(quiet["worker"], "-n") == "worker@%h"


def test_the_workers_read_worker_events_from_the_environment() -> None:
    code = "import celeryconfig; print(celeryconfig.worker_send_task_events)"
    root = Path(__file__).resolve().parents[2]
    for value, expected in (("false", "False"), ("true", "True")):
        env = {**os.environ, "WORKER_EVENTS": value, "REDIS_URL": "redis://127.0.0.1:9/0"}
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.stdout.strip() == expected, done.stderr


def test_the_payments_concurrency_setting_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="payments_concurrency"):
        Settings(payments_concurrency=0)
