"""The whole system as processes, and what the end-to-end tests do with it: place, wait, stop."""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.children import Child
from devstack.commands import app_commands, flower_environment
from devstack.processes import free_port
from devstack.services import http_ok
from settings import Settings, as_environment, child_environment
from tests.chaos.statuses import FINAL
from workers.adapters.sqs import OrdersQueue


def of_its_own(settings: Settings, name: str) -> Settings:
    """`settings` with an SQS queue and Celery queues no other stack of the run reads from.

    A stack set up apart from the shared one gets them, so whichever is up beside it never
    takes its messages or tasks: what it logs and counts is all its own.
    """
    run = f"{name}-{uuid.uuid4().hex[:8]}"
    own = settings.model_copy(
        update={
            "orders_queue": run,
            "orders_dlq": f"{run}-dlq",
            "celery_queue_prefix": f"{run}-",
        }
    )
    OrdersQueue.from_settings(own, timeout=5).ensure(
        max_receive_count=settings.sqs_max_receive_count,
        visibility_timeout=settings.sqs_visibility_timeout,
    )
    return own


def stop_together(stops: Sequence[Callable[[], None]]) -> None:
    """Run every stop at once: each waits out its own process's shutdown, not the others'."""
    if not stops:
        return
    with ThreadPoolExecutor(max_workers=len(stops)) as pool:
        for done in [pool.submit(stop) for stop in stops]:
            done.result()


@contextlib.contextmanager
def running_system(settings: Settings) -> Iterator[dict[str, str]]:
    """Every long-running process of the system, started as `make run` starts them."""
    intake_port, flower_port = free_port(), free_port()
    api = f"http://127.0.0.1:{intake_port}"
    # Held orders are exercised end to end, so the stack backorders instead of rejecting.
    env = child_environment(
        as_environment(settings)
        | {"PUBLIC_BASE_URL": api, "PYTHONUNBUFFERED": "1", "SHORTAGE_POLICY": "backorder"}
    )
    with tempfile.TemporaryDirectory(prefix="e2e-") as runtime, contextlib.ExitStack() as stop:
        children: list[Child] = []
        stop.callback(lambda: stop_together([child.stop for child in children]))
        commands = app_commands(intake_port, flower_port, Path(runtime), settings)
        for name, argv in commands.items():
            child_env = flower_environment(env, settings) if name == "flower" else env
            children.append(Child(name, argv, child_env))
        flower = f"http://127.0.0.1:{flower_port}"
        wait_for(
            lambda: http_ok(f"{api}/readyz") and http_ok(f"{flower}/healthcheck"), 60, children
        )
        yield {"api": api, "flower": flower}


def wait_for(
    condition: Callable[[], Any], seconds: float, children: list[Child] | None = None
) -> Any:
    """Poll until `condition` returns something truthy; fail if it does not in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for child in children or []:
            assert child.exit_code() is None, f"{child.name} exited with {child.exit_code()}"
        if result := condition():
            return result
        time.sleep(0.2)
    pytest.fail(f"condition not met within {seconds} s")


def place(api: str, body: dict[str, Any]) -> dict[str, Any]:
    """Place an order over HTTP under a new idempotency key; the intake's 202 answer."""
    response = requests.post(
        f"{api}/orders", json=body, headers={"Idempotency-Key": f'"{uuid.uuid4()}"'}, timeout=10
    )
    assert response.status_code == 202, response.text
    placed: dict[str, Any] = response.json()
    return placed


def final_view(placed: dict[str, Any]) -> dict[str, Any]:
    """The order's view once its status is final."""
    headers = {"Authorization": f"Bearer {placed['order_token']}"}

    def final() -> dict[str, Any] | None:
        view: dict[str, Any] = requests.get(placed["status_url"], headers=headers, timeout=5).json()
        return view if view["status"] in FINAL else None

    result: dict[str, Any] = wait_for(final, 60)
    return result
