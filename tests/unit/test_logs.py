"""Log lines: one shape for structlog's and the standard library's lines, JSON or key=value
text, with the bound context and the request id on each, and no exception's message."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import structlog

from bootstrap.logs import QUIETED, configure_logging, configure_structlog, formatter
from models.domain.follow_ups import REQUEST_ID
from settings import Settings

ORDER_ID = "5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f"


@pytest.fixture(autouse=True)
def no_context() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    token = REQUEST_ID.set(None)
    yield
    REQUEST_ID.reset(token)
    structlog.contextvars.clear_contextvars()


def record(
    message: str = "pipeline started",
    *args: object,
    level: int = logging.INFO,
    extra: dict[str, Any] | None = None,
) -> logging.LogRecord:
    """A record made the way `logger.info(message, *args, extra=extra)` makes it."""
    logger = logging.getLogger("workers.dispatcher")
    return logger.makeRecord(
        logger.name, level, __file__, 1, message, args, None, extra=extra or None
    )


def json_line(rec: logging.LogRecord) -> dict[str, Any]:
    line = formatter("json").format(rec)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def text_line(rec: logging.LogRecord) -> str:
    return formatter("text").format(rec)


def test_the_order_id_passed_as_extra_is_at_the_top_level_of_the_json_line() -> None:
    entry = json_line(record(extra={"order_id": ORDER_ID}))
    assert entry["order_id"] == ORDER_ID


def test_the_json_line_has_level_logger_message_and_a_utc_timestamp() -> None:
    entry = json_line(record("dead-lettered %s: %s", "m-1", "bad", level=logging.ERROR))
    assert entry["level"] == "error"
    assert entry["logger"] == "workers.dispatcher"
    assert entry["message"] == "dead-lettered m-1: bad"
    assert entry["ts"].startswith("20")
    assert entry["ts"].endswith("Z")


def test_a_plain_json_line_carries_none_of_the_record_internals() -> None:
    entry = json_line(record())
    assert set(entry) == {"ts", "level", "logger", "message"}


def test_extras_that_json_cannot_encode_are_written_as_text() -> None:
    order_id = uuid.UUID(ORDER_ID)
    entry = json_line(record(extra={"order_id": order_id, "eta": date(2025, 1, 2)}))
    assert entry["order_id"] == ORDER_ID
    assert entry["eta"] == "2025-01-02"


def test_context_bound_once_is_on_every_line_until_unbound() -> None:
    with structlog.contextvars.bound_contextvars(order_id=ORDER_ID, task_id="t-1"):
        REQUEST_ID.set("req-42")
        inside = json_line(record())
    REQUEST_ID.set(None)
    outside = json_line(record())
    assert (inside["order_id"], inside["task_id"], inside["request_id"]) == (
        ORDER_ID,
        "t-1",
        "req-42",
    )
    assert "order_id" not in outside
    assert "request_id" not in outside


def test_the_text_line_appends_extras_and_context_as_key_value() -> None:
    structlog.contextvars.bind_contextvars(request_id="req-7")
    line = text_line(record(extra={"order_id": uuid.UUID(ORDER_ID), "kind": "shipped"}))
    assert line.endswith(
        f"[info] pipeline started [workers.dispatcher] kind=shipped order_id={ORDER_ID}"
        " request_id=req-7"
    )


def test_a_text_line_without_extras_has_nothing_appended() -> None:
    assert text_line(record()).endswith("[info] pipeline started [workers.dispatcher]")


def logged(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        exc_info = sys.exc_info()
    logger = logging.getLogger("workers.dispatcher")
    return logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed", (), exc_info)


def test_an_exception_is_included_as_its_traceback_without_what_it_said() -> None:
    entry = json_line(logged(RuntimeError("cannot ship to ada@example.com")))
    assert "test_logs.py" in entry["exception"]
    assert "builtins.RuntimeError: [withheld]" in entry["exception"]
    assert "ada@example.com" not in entry["exception"]
    text = text_line(logged(ValueError("Ada Lovelace")))
    assert "builtins.ValueError: [withheld]" in text
    assert "Lovelace" not in text


def test_a_system_error_keeps_its_message() -> None:
    entry = json_line(logged(ConnectionRefusedError(111, "Connection refused")))
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in entry["exception"]


class Lines(logging.Handler):
    def __init__(self, log_format: str) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(formatter(log_format))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def structlog_lines() -> Iterator[list[str]]:
    """What a structlog logger named `tests.structlog` writes, through the JSON formatter."""
    configure_structlog()
    lines, logger = Lines("json"), logging.getLogger("tests.structlog")
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    yield lines.lines
    logger.removeHandler(lines)


def test_a_structlog_line_has_the_shape_of_a_standard_library_line(
    structlog_lines: list[str],
) -> None:
    REQUEST_ID.set("req-9")
    with structlog.contextvars.bound_contextvars(order_id=ORDER_ID):
        structlog.stdlib.get_logger("tests.structlog").info("step ended", outcome="done")
    entry = json.loads(structlog_lines[0])
    assert entry["message"] == "step ended"
    assert entry["logger"] == "tests.structlog"
    assert entry["level"] == "info"
    assert (entry["order_id"], entry["request_id"], entry["outcome"]) == (ORDER_ID, "req-9", "done")


def test_a_structlog_exception_is_withheld_too(structlog_lines: list[str]) -> None:
    refusal = ValueError("cannot ship to ada@example.com")
    try:
        raise refusal
    except ValueError:
        structlog.stdlib.get_logger("tests.structlog").exception("step raised")
    entry = json.loads(structlog_lines[0])
    assert "builtins.ValueError: [withheld]" in entry["exception"]
    assert "ada@example.com" not in structlog_lines[0]


def test_celerys_per_task_info_lines_are_quieted_and_its_warnings_kept() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging(Settings(log_format="json", log_level="INFO"))
        for name in QUIETED:
            assert not logging.getLogger(name).isEnabledFor(logging.INFO)
            assert logging.getLogger(name).isEnabledFor(logging.WARNING)
    finally:
        root.handlers[:], root.level = handlers, level
