"""An order's log lines, read from the JSON logs of the intake, the dispatcher and both workers
running as processes: the request id the client sent is on the line of every step."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from devstack.commands import app_commands
from devstack.processes import (
    REPO_ROOT,
    free_port,
    log_tail,
    spawn,
    stop_group,
    whole_lines,
)
from devstack.services import http_ok
from settings import Settings, as_environment, child_environment
from tests.e2e.system import of_its_own, stop_together
from tests.factories import NEWARK, add_product, add_warehouse, order_body

pytestmark = pytest.mark.e2e

PROCESSES = ("intake", "dispatcher", "worker", "payments")
# An order's whole normal life: its request, its dispatch, allocate, charge, ship, three mails.
STEPS = {"allocate": 1, "charge": 1, "ship": 1, "notify": 3}
HANDFUL = 10


@pytest.fixture(scope="module")
def logs(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The processes an order passes through, each writing JSON lines to a file of its own."""
    folder = tmp_path_factory.mktemp("order-logs")
    port = free_port()
    # Queues of its own: a stack up beside it must not take its order and log it elsewhere.
    own = of_its_own(settings, "logs")
    env = child_environment(
        as_environment(own)
        | {"PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1"}
        | {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    )
    commands = app_commands(port, free_port(), folder, own)
    with contextlib.ExitStack() as stop:
        processes: list[subprocess.Popen[bytes]] = []
        stop.callback(lambda: stop_together([partial(stop_group, p) for p in processes]))
        for name in PROCESSES:
            processes.append(spawn(commands[name], folder / f"{name}.log", env=env, cwd=REPO_ROOT))
        api = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not http_ok(f"{api}/readyz"):
            assert time.monotonic() < deadline, log_tail(folder / "intake.log")
            time.sleep(0.2)
        yield {"api": api, "folder": folder}


def lines_about(folder: Path, order_id: str) -> list[dict[str, Any]]:
    """Every JSON line of every process that names the order, tagged with its process."""
    found = []
    for name in PROCESSES:
        for text in whole_lines(folder / f"{name}.log"):
            if order_id in text and text.startswith("{"):
                found.append(json.loads(text) | {"process": name})
    return found


def steps_done(lines: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in lines:
        if line["message"] == "step ended" and line["outcome"] == "done":
            counts[line["step"]] = counts.get(line["step"], 0) + 1
    return counts


def wait_for_every_step(folder: Path, order_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 60
    while steps_done(lines := lines_about(folder, order_id)) != STEPS:
        if time.monotonic() > deadline:
            tails = "".join(log_tail(folder / f"{name}.log") for name in PROCESSES)
            pytest.fail(f"steps done: {steps_done(lines)}{tails}")
        time.sleep(0.3)
    # Anything else the order's last step might still have to say.
    time.sleep(1.0)
    return lines_about(folder, order_id)


def test_a_workers_step_lines_carry_the_request_id_the_intake_logged(
    logs: dict[str, Any], sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    request_id = f"e2e-{uuid.uuid4().hex}"

    response = requests.post(
        f"{logs['api']}/orders",
        json=order_body([(bed, 1)]),
        headers={"X-Request-ID": request_id, "Idempotency-Key": f'"{uuid.uuid4()}"'},
        timeout=10,
    )

    assert response.status_code == 202, response.text
    assert response.headers["X-Request-ID"] == request_id
    order_id = response.json()["order_id"]
    lines = wait_for_every_step(logs["folder"], order_id)
    access = [line for line in lines if line["logger"] == "intake.access"]
    assert [(a["method"], a["route"], a["status"], a["request_id"]) for a in access] == [
        ("POST", "/orders", 202, request_id)
    ]
    steps = [line for line in lines if line["message"] == "step ended"]
    assert {line["process"] for line in steps} == {"worker", "payments"}
    for step in steps:
        assert (step["order_id"], step["request_id"], step["outcome"]) == (
            order_id,
            request_id,
            "done",
        )
        assert step["task_id"]
        assert step["duration_ms"] >= 0
    assert len({step["task_id"] for step in steps}) == len(steps)
    assert all(line["request_id"] == request_id for line in lines)


def test_an_orders_normal_life_is_a_handful_of_lines_without_customer_data(
    logs: dict[str, Any], sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})

    response = requests.post(
        f"{logs['api']}/orders",
        json=order_body([(bed, 1)]),
        headers={"Idempotency-Key": f'"{uuid.uuid4()}"'},
        timeout=10,
    )

    assert response.status_code == 202, response.text
    order_id = response.json()["order_id"]
    lines = wait_for_every_step(logs["folder"], order_id)
    # The request, the dispatch, and one line per step: nothing else at INFO.
    assert len(lines) == 2 + sum(STEPS.values()) <= HANDFUL, json.dumps(lines, indent=1)
    logged = "\n".join(json.dumps(line) for line in lines)
    for customer_data in ("ada@example.com", "Lovelace", "Main St"):
        assert customer_data not in logged
