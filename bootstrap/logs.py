"""Structured logging with structlog: JSON lines in production, key=value text locally.

Every line of a process has one shape, whoever logs it: structlog's own loggers and the
standard library's (Celery, gunicorn, SQLAlchemy, our modules' `logging.getLogger`) go
through the same processors. Context bound once (`structlog.contextvars`: an order id, a
task id) and the request an order's work traces back to (`REQUEST_ID`) are on every line
logged meanwhile, so no call has to pass them.
"""

from __future__ import annotations

import logging
import sys
import traceback

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from models.domain.follow_ups import REQUEST_ID
from settings import Settings

# Attributes every LogRecord has; anything else came through `extra=` and belongs in the line,
# except Celery's `data`: a task's arguments and return value, which a log line has no need of.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "data"}

# Their INFO lines repeat per task what the step line says better (Celery's "received",
# "succeeded" with the task's return value; the Stripe SDK's every request and response);
# their warnings and errors still show.
QUIETED = ("celery.worker.strategy", "celery.app.trace", "stripe")


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


def add_request_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The request the work in hand traces back to, if any."""
    request_id = REQUEST_ID.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def add_extras(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A standard library record's `extra=` fields, at the top level of the line."""
    record: logging.LogRecord | None = event.get("_record")
    if record is not None:
        event.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
    return event


def withhold_exception(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """A logged exception as its traceback without its message (withheld_trace)."""
    exc_info = event.pop("exc_info", None)
    if exc_info is True:
        exc_info = sys.exc_info()
    exc = exc_info if isinstance(exc_info, BaseException) else (exc_info or (None, None))[1]
    if isinstance(exc, BaseException):
        event["exception"] = withheld_trace(exc)
    return event


def as_text(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Values as `str` gives them (an order's UUID as you would grep for it), not as repr."""
    for key, value in event.items():
        if not isinstance(value, str | int | float | bool | None):
            event[key] = str(value)
    return event


# Both kinds of line: a structlog call's and a standard library record's.
SHARED: list[Processor] = [
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.contextvars.merge_contextvars,
    add_request_id,
]


# What a reader looks for first, in this order; the rest follows as it came.
FIRST = ("ts", "level", "logger", "message", "order_id", "request_id", "step", "outcome")


def in_order(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """The keys of FIRST first, so every JSON line reads alike."""
    ordered = {key: event[key] for key in FIRST if key in event}
    ordered.update(event)
    return ordered


def renderer(log_format: str) -> list[Processor]:
    """The last processors of a line: JSON, or `ts [level] event key=value` text."""
    if log_format == "json":
        return [
            structlog.processors.EventRenamer("message"),
            in_order,
            structlog.processors.JSONRenderer(default=str),
        ]
    return [
        as_text,
        structlog.dev.ConsoleRenderer(
            colors=False, timestamp_key="ts", pad_event_to=0, pad_level=False
        ),
    ]


def formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every handler: one line per record, customer data withheld."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*SHARED, add_extras],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            withhold_exception,
            *renderer(log_format),
        ],
    )


def configure_structlog() -> None:
    """Hand structlog's lines to the standard library's handlers, so they share one format."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *SHARED,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure_logging(settings: Settings) -> None:
    """Send every logger of the process to stderr in the configured format."""
    configure_structlog()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in QUIETED:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Gunicorn's workers log through handlers of their own: through ours instead.
    for name in ("gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
