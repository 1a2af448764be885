"""Follow-ups as data: the kinds of row, the row as published, the running task's own row."""

from __future__ import annotations

import contextvars
import re
from dataclasses import dataclass
from typing import Any

TASK = "task"
ORDERS = "orders"

# What session.info carries for the unit of work that owns the session.
RECORDED = "follow_ups.recorded"
PUBLISHES = "follow_ups.publishes"
LEASE = "follow_ups.lease"
FINISHES = "follow_ups.finishes"

# How long a published task may take before the relay publishes it again.
DEFAULT_LEASE_SECONDS = 40.0

Arg = str | int


@dataclass(frozen=True)
class FollowUp:
    """One outbox row, as published."""

    id: int
    topic: str
    payload: dict[str, Any]
    attempts: int = 0
    # Whether the process that recorded it publishes it right after commit.
    publish_now: bool = False

    @property
    def task(self) -> str:
        """The task's name (task rows only)."""
        return str(self.payload["task"])

    @property
    def args(self) -> list[Arg]:
        """The task's arguments (task rows only)."""
        return list(self.payload["args"])


@dataclass
class Current:
    """The follow-up the running task was started for; set by the worker around each task."""

    id: int
    finished: bool = False
    # How the run ended for its row: done, retry_later or failed (workers/step_task.py).
    outcome: str = "done"


CURRENT: contextvars.ContextVar[Current | None] = contextvars.ContextVar(
    "current_follow_up", default=None
)

# Mails the running task sends itself once its step has ended, instead of a task each: set
# (to an empty list) by a worker that consumes the mail queue, around each step
# (workers/step_task.py). Each row is leased as a published one is, so the relay sends it
# again if this process dies first.
SENT_HERE: contextvars.ContextVar[list[FollowUp] | None] = contextvars.ContextVar(
    "mails_sent_here", default=None
)

# The request an order's work traces back to: set by the intake per request, by the dispatcher
# per message and by the worker per task, and written into every follow-up recorded meanwhile
# (the payload's REQUEST_ID_FIELD), so the next process can set it again.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
REQUEST_ID_FIELD = "request_id"
# A client chooses it: short, and of characters that cannot spell an email address.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def sane_request_id(value: object) -> str | None:
    """`value` if it can stand in a log line as a request id, else None."""
    if isinstance(value, str) and _SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


class TryLater(Exception):
    """The step could not finish now (a gateway or a mail server is away): run it again later."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay
