"""What the database says about the benchmark's orders: done yet, and when each step happened."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

POLL_SECONDS = 0.25
# An order is through when it is shipped and its shipped mail is sent.
PROGRESS_SQL = """SELECT
  (SELECT count(*) FROM "order" o JOIN notification n
     ON n.order_id = o.id AND n.kind = 'shipped' AND n.status = 'sent'
   WHERE o.id = ANY(%(ids)s) AND o.status = 'shipped'),
  (SELECT count(*) FROM outbox WHERE done_at IS NULL AND failed_at IS NULL
     AND message_key = ANY(%(keys)s)),
  (SELECT count(*) FROM "order" WHERE id = ANY(%(ids)s)
     AND status IN ('rejected', 'payment_failed', 'cancelled'))"""
TIMES_SQL = """SELECT o.created_at, e.created_at, n.sent_at
FROM "order" o
JOIN order_event e ON e.order_id = o.id AND e.to_status = 'shipped'
JOIN notification n ON n.order_id = o.id AND n.kind = 'shipped' AND n.status = 'sent'
WHERE o.id = ANY(%(ids)s)"""
# From the row's creation, just before the intake's commit, to SQS taking the message.
TO_SQS_SQL = """SELECT 1000 * extract(epoch FROM done_at - created_at)::float8 FROM outbox
WHERE topic = 'orders' AND message_key = ANY(%(keys)s) AND payload->>'type' = 'order.placed'
  AND done_at IS NOT NULL"""
TASKS_SQL = """SELECT message_key, count(*), sum(attempts) FROM outbox
WHERE topic = 'task' AND message_key = ANY(%(keys)s) GROUP BY message_key"""


@dataclass(frozen=True)
class OrderTimes:
    """When one order was submitted, shipped, and its shipped mail accepted by the server."""

    submitted: datetime
    shipped: datetime
    emailed: datetime

    @property
    def to_shipped(self) -> float:
        """Seconds from submission to shipped."""
        return (self.shipped - self.submitted).total_seconds()

    @property
    def to_emailed(self) -> float:
        """Seconds from submission to shipped and emailed."""
        return (max(self.shipped, self.emailed) - self.submitted).total_seconds()


def _params(ids: Sequence[str]) -> dict[str, Any]:
    # Order ids as uuids for the order tables, as text for the outbox's message keys.
    return {"ids": [uuid.UUID(i) for i in ids], "keys": list(ids)}


def wait_until_through(
    connection: psycopg.Connection[Any], ids: Sequence[str], timeout: float
) -> None:
    """Return once every order is shipped and emailed with no follow-up of theirs pending."""
    deadline = time.monotonic() + timeout
    through, pending, failed = 0, 0, 0
    while time.monotonic() < deadline:
        row = connection.execute(PROGRESS_SQL, _params(ids)).fetchone()
        connection.commit()
        through, pending, failed = row if row else (0, 0, 0)
        if failed:
            raise RuntimeError(f"{failed} orders were not fulfilled (stock? payment?)")
        if through == len(ids) and pending == 0:
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(
        f"{through} of {len(ids)} orders through, {pending} follow-ups pending"
        f" after {timeout:.0f} s"
    )


def order_times(connection: psycopg.Connection[Any], ids: Sequence[str]) -> list[OrderTimes]:
    """Every order's submission, shipping and shipped-mail times."""
    rows = connection.execute(TIMES_SQL, _params(ids)).fetchall()
    connection.commit()
    return [OrderTimes(submitted, shipped, emailed) for submitted, shipped, emailed in rows]


def commit_to_sqs(connection: psycopg.Connection[Any], ids: Sequence[str]) -> list[float]:
    """Milliseconds from each order's commit to SQS taking its message."""
    return [float(row[0]) for row in connection.execute(TO_SQS_SQL, _params(ids)).fetchall()]


def tasks_per_order(connection: psycopg.Connection[Any], ids: Sequence[str]) -> tuple[int, int]:
    """The Celery tasks one order ran (the most common count), and publishes beyond one each."""
    rows = connection.execute(TASKS_SQL, _params(ids)).fetchall()
    connection.commit()
    counts = Counter(int(tasks) for _, tasks, _ in rows)
    republished = sum(int(attempts) - int(tasks) for _, tasks, attempts in rows)
    return (counts.most_common(1)[0][0] if counts else 0), republished
