"""Log lines: JSON with extras at the top level, or text with key=value extras."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from datetime import date
from typing import Any

from bootstrap.logs import JsonFormatter, TextFormatter

ORDER_ID = "5f0c6f3e-8a55-4a8e-9d43-1b7f1c2d3e4f"


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
    line = JsonFormatter().format(rec)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_the_order_id_passed_as_extra_is_at_the_top_level_of_the_json_line() -> None:
    entry = json_line(record(extra={"order_id": ORDER_ID}))
    assert entry["order_id"] == ORDER_ID


def test_the_json_line_has_level_logger_message_and_timestamp() -> None:
    entry = json_line(record("dead-lettered %s: %s", "m-1", "bad", level=logging.ERROR))
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "workers.dispatcher"
    assert entry["message"] == "dead-lettered m-1: bad"
    assert entry["ts"][:2] in {"19", "20"}


def test_a_plain_json_line_carries_none_of_the_record_internals() -> None:
    entry = json_line(record())
    assert set(entry) == {"ts", "level", "logger", "message"}


def test_extras_that_json_cannot_encode_are_written_as_text() -> None:
    order_id = uuid.UUID(ORDER_ID)
    entry = json_line(record(extra={"order_id": order_id, "eta": date(2025, 1, 2)}))
    assert entry["order_id"] == ORDER_ID
    assert entry["eta"] == "2025-01-02"


def logged(exc: BaseException) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        exc_info = sys.exc_info()
    logger = logging.getLogger("workers.dispatcher")
    return logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "failed", (), exc_info)


def test_an_exception_is_included_as_its_traceback_without_what_it_said() -> None:
    entry = json_line(logged(RuntimeError("cannot ship to ada@example.com")))
    assert "test_logs.py" in entry["exc"]
    assert "builtins.RuntimeError: [withheld]" in entry["exc"]
    assert "ada@example.com" not in entry["exc"]
    text = TextFormatter("%(message)s").format(logged(ValueError("Ada Lovelace")))
    assert "builtins.ValueError: [withheld]" in text
    assert "Lovelace" not in text


def test_a_system_error_keeps_its_message() -> None:
    entry = json_line(logged(ConnectionRefusedError(111, "Connection refused")))
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in entry["exc"]


def test_the_text_line_appends_extras_as_key_value() -> None:
    formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")
    line = formatter.format(record(extra={"order_id": ORDER_ID, "kind": "shipped"}))
    assert line == f"INFO workers.dispatcher: pipeline started order_id={ORDER_ID} kind=shipped"


def test_a_text_line_without_extras_has_nothing_appended() -> None:
    formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")
    assert formatter.format(record()) == "INFO workers.dispatcher: pipeline started"
