"""The workers' metrics: how each step task's run ended, and where a worker serves them.

A Celery worker's main process picks its folder (one per node name, emptied) before its
pool forks, so every pool process records there; with METRICS_PORT it also serves the
folder (telemetry/serving.py). Each run of a step is timed and counted by outcome, and a
charge, a mail or a low-stock alert is counted by what came of it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import Retry
from celery.signals import celeryd_init, worker_process_shutdown

from models.domain import tasks
from models.services.allocate import Allocated, AllocationResult
from settings import get_settings
from telemetry import instruments
from telemetry.instruments import (
    mail_ended,
    payment_attempted,
    step_ran,
    step_retried,
)
from telemetry.processes import mark_dead
from telemetry.serving import serve_metrics

# What StepTask returns for a run that did not end the step (workers/step_task.py).
RETRY_LATER = "retry_later"
FAILED = "failed"
# The charge step's outcomes that are not an attempt: the order was not waiting for one.
NOT_AN_ATTEMPT = frozenset({"skipped"})

Seen = Callable[[Any], Any]


def step_name(task: str) -> str:
    """The step a task runs: `fulfillment.allocate` is `allocate`."""
    return task.rsplit(".", 1)[-1]


def outcome_of(result: object) -> str:
    """done, retry_later or failed, from what a step task returned."""
    return str(result) if result in (RETRY_LATER, FAILED) else "done"


@contextmanager
def observed(task: str, args: tuple[Any, ...]) -> Iterator[Seen]:
    """Time a step task's run and count how it ended; wrap its result in what this yields."""
    step, started = step_name(task), time.perf_counter()
    outcome = "error"

    def seen(result: Any) -> Any:
        nonlocal outcome
        outcome = outcome_of(result)
        _what_came_of_it(task, args, result)
        return result

    try:
        yield seen
    except Retry:
        outcome = RETRY_LATER
        step_retried(step, "celery")
        raise
    finally:
        step_ran(step, outcome, time.perf_counter() - started)
    if outcome == RETRY_LATER:
        step_retried(step, "row")


def _what_came_of_it(task: str, args: tuple[Any, ...], result: Any) -> None:
    ended = {RETRY_LATER: "retried", FAILED: FAILED}.get(str(result))
    if task == tasks.CHARGE and str(result) not in NOT_AN_ATTEMPT:
        payment_attempted(ended or str(result))
    elif task == tasks.NOTIFY:
        kind = str(args[1]) if len(args) > 1 else "unknown"
        mail_ended(kind, ended or str(result))
    elif task == tasks.ALERT_LOW_STOCK:
        mail_ended("low_stock", ended or ("sent" if result is True else "already_sent"))


DECISIONS = {Allocated.BACKORDERED: "backorder", Allocated.REJECTED: "reject"}


def allocation_decided(result: AllocationResult) -> None:
    """Count what allocation decided: single, split, backorder or reject (nothing else is one)."""
    if result.outcome is Allocated.ALLOCATED and result.shape is not None:
        instruments.allocation_decided(result.shape.value)
    elif result.outcome in DECISIONS:
        instruments.allocation_decided(DECISIONS[result.outcome])


_node: list[str] = []


@celeryd_init.connect
def _serve(sender: str | None = None, **_: Any) -> None:
    # In the worker's main process, before its pool forks: the children inherit the folder.
    _node[:] = [sender or "worker"]
    serve_metrics(get_settings(), _node[0])


@worker_process_shutdown.connect
def _pool_process_gone(**_: Any) -> None:
    if _node:
        mark_dead(get_settings(), _node[0], os.getpid())
