"""A task run's one line: its outcome, the step's result, and the context of the run."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from bootstrap.logs import configure_structlog, formatter
from models.domain.follow_ups import REQUEST_ID, Current
from workers.step_log import run_logged

ORDER_ID = "5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f"


class Request:
    id = "task-1"

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def get(self, key: str, default: Any = None) -> Any:
        return self.headers.get(key, default)


class Task:
    name = "fulfillment.notify"

    def __init__(self, **headers: str) -> None:
        self.request = Request(headers)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter("json"))
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[list[dict[str, Any]]]:
    configure_structlog()
    structlog.contextvars.clear_contextvars()
    handler, logger = Lines(), logging.getLogger("workers.step")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)


def run(task: Task, current: Current, step: Any = lambda: "sent") -> Any:
    return run_logged(task, current, (ORDER_ID, "shipped"), step)  # type: ignore[arg-type]


def test_a_run_logs_one_line_with_its_outcome_result_and_context(
    lines: list[dict[str, Any]],
) -> None:
    assert run(Task(request_id="req-1"), Current(1)) == "sent"

    [line] = lines
    assert list(line)[:8] == [
        "ts",
        "level",
        "logger",
        "message",
        "order_id",
        "request_id",
        "step",
        "outcome",
    ]
    assert (line["order_id"], line["request_id"], line["task_id"]) == (ORDER_ID, "req-1", "task-1")
    assert (line["step"], line["kind"], line["outcome"], line["result"]) == (
        "notify",
        "shipped",
        "done",
        "sent",
    )
    assert line["duration_ms"] >= 0


def test_the_outcome_is_what_the_run_left_on_its_row_and_a_result_only_when_done(
    lines: list[dict[str, Any]],
) -> None:
    current = Current(1)

    def put_off() -> str:
        current.outcome = "retry_later"
        return "retry_later"

    run(Task(), current, put_off)

    assert lines[0]["outcome"] == "retry_later"
    assert "result" not in lines[0]
    assert "request_id" not in lines[0]


def test_an_escaping_exception_is_logged_as_retry_later_and_the_context_unbound(
    lines: list[dict[str, Any]],
) -> None:
    def raises() -> None:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        run(Task(request_id="req-2"), Current(1), raises)

    assert lines[0]["outcome"] == "retry_later"
    assert structlog.contextvars.get_contextvars() == {}
    assert REQUEST_ID.get() is None


def test_an_unfit_request_id_in_the_headers_is_left_out(lines: list[dict[str, Any]]) -> None:
    run(Task(request_id="ada@example.com"), Current(1))
    assert "request_id" not in lines[0]
