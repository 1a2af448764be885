"""Follow-ups as data: the kinds of row, the row as published, the running task's own row."""

from __future__ import annotations

import contextvars
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


CURRENT: contextvars.ContextVar[Current | None] = contextvars.ContextVar(
    "current_follow_up", default=None
)


class TryLater(Exception):
    """The step could not finish now (a gateway or a mail server is away): run it again later."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason)
        self.delay = delay
