"""A task run's one log line: its outcome, and the context every line logged during it carries."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from celery import Task

from models.domain.follow_ups import REQUEST_ID, REQUEST_ID_FIELD, Current, sane_request_id

log = structlog.stdlib.get_logger("workers.step")

# What a step's return may add to its line: an outcome's name ("allocated", "declined").
_PLAIN = str | int | bool


def order_of(args: tuple[Any, ...]) -> uuid.UUID | None:
    """The order a task is about, when its first argument names one."""
    try:
        return uuid.UUID(str(args[0])) if args else None
    except ValueError:
        return None


def _about(args: tuple[Any, ...]) -> dict[str, str]:
    """The order a task is about and, for a mail, its kind: ids and names, never data."""
    order_id = order_of(args)
    context = {"order_id": str(order_id)} if order_id else {}
    if len(args) > 1:
        context["kind"] = str(args[1])[:40]
    return context


def run_logged(
    task: Task[Any, Any], current: Current, args: tuple[Any, ...], run: Callable[[], Any]
) -> Any:
    """Run `run` as `task`'s step; log one line when it ends, whatever the end.

    Every line logged meanwhile carries the order, the task's id and step, and the request
    the order's work traces back to (from the task's headers, `workers.adapters.publishers`),
    which the follow-ups the step records carry on.
    """
    request_id = sane_request_id(task.request.get(REQUEST_ID_FIELD))
    step = task.name.rpartition(".")[2]
    started = time.perf_counter()
    token = REQUEST_ID.set(request_id)
    # Tokens rather than `bound_contextvars`, which reads every variable of the context first.
    tokens = structlog.contextvars.bind_contextvars(
        **_about(args), task_id=task.request.id, step=step
    )
    # Whatever escapes the step is Celery's retry, or the row's lease brings the task back.
    outcome, result = "retry_later", None
    try:
        result = run()
        outcome = current.outcome
        return result
    finally:
        told = {"result": result} if isinstance(result, _PLAIN) and outcome == "done" else {}
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        log.info("step ended", outcome=outcome, duration_ms=elapsed, **told)
        structlog.contextvars.reset_contextvars(**tokens)
        REQUEST_ID.reset(token)
