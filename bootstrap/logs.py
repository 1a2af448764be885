"""Structured logging: JSON lines in production, readable text locally; order ids on every line."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from typing import Any

from settings import Settings

# Attributes every LogRecord has; anything else was passed through `extra=` and belongs in the line.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _said(exc: BaseException) -> str:
    # A system error's message names a host, a port or a file, never a customer.
    if isinstance(exc, OSError):
        return f": {exc}"
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return f" (SQLSTATE {sqlstate}): [withheld]" if sqlstate else ": [withheld]"


def withheld_trace(exc: BaseException) -> str:
    """The traceback of `exc` and its causes: where, and which exception, not what it said.

    An exception's message can quote what it was given (a request body, a database row, a
    statement's parameters, a server's reply): a customer's name, address or email must not
    reach a log line. A database error keeps its SQLSTATE, which says what went wrong
    without data, and a system error (a refused connection, a timeout) its message.
    """
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = f"{type(current).__module__}.{type(current).__qualname__}"
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{kind}{_said(current)}\n")
        current = current.__cause__ or current.__context__
    return "\nwhile handling or caused by:\n".join(parts)


class _Withholding(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        """A logged exception's traceback without its message (withheld_trace)."""
        exc = ei[1]
        return withheld_trace(exc) if isinstance(exc, BaseException) else ""


class JsonFormatter(_Withholding):
    """One JSON object per line, with every `extra` field at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        # The record's own fields come last so an `extra` cannot mask them.
        entry |= {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(_Withholding):
    """A plain line with `key=value` extras appended."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        return f"{line} {extras}" if extras else line


def configure_logging(settings: Settings) -> None:
    """Send the root logger to stderr in the configured format."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
