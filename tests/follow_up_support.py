"""Running follow-ups in the test's own process, as a worker would run them from the broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, true, update

from bootstrap import Context
from models.domain.clock import utcnow
from models.tables.outbox import PENDING, Outbox


def _of_tasks(only: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows of these tasks (all rows when none are named): a subject is the task's first
    argument, and ids of different kinds (a delivery's, an alert's) can be equal."""
    return Outbox.payload["task"].astext.in_(only) if only else true()


def pending(
    context: Context, subject: object, only: tuple[str, ...] = ()
) -> list[tuple[str, list[Any]]]:
    """The follow-ups of a subject (an order id, an alert id) not yet done, oldest first."""
    with context.work.sessions() as session:
        rows = session.execute(
            select(Outbox.payload)
            .where(PENDING, Outbox.message_key == str(subject), _of_tasks(only))
            .order_by(Outbox.id)
        ).scalars()
        return [(row.get("task", row.get("type", "")), row.get("args", [])) for row in rows]


def _take_due(
    context: Context, keys: list[str], only: tuple[str, ...], wait_out_delays: bool
) -> list[tuple[int, dict[str, Any]]]:
    """The subjects' task rows due now (all of them, with `wait_out_delays`), each leased
    for a minute so the run that takes it is the only one."""
    mine = (PENDING, Outbox.message_key.in_(keys), Outbox.topic == "task", _of_tasks(only))
    now = utcnow()
    with context.work() as session:
        if wait_out_delays:
            session.execute(update(Outbox).where(*mine).values(due_at=now))
        rows = session.execute(
            update(Outbox)
            .where(*mine, Outbox.due_at <= now)
            .values(attempts=Outbox.attempts + 1, due_at=now + timedelta(seconds=60))
            .returning(Outbox.id, Outbox.payload)
        ).all()
    return [(int(row_id), dict(payload)) for row_id, payload in rows]


def run_follow_ups(
    context: Context,
    *subjects: object,
    rounds: int = 40,
    wait_out_delays: bool = True,
    only: tuple[str, ...] = (),
) -> list[tuple[str, list[Any], Any]]:
    """Run the subjects' pending task rows through their Celery tasks until none is left.

    A row a step put off (a retry's backoff) is run at once with `wait_out_delays`, as if
    the time had passed. Each run is (task, args, what the task returned). `only` names the
    tasks whose rows are meant, where ids of different kinds can be equal.
    """
    from workers import tasks  # noqa: F401, PLC0415 - registers the tasks on the app
    from workers.app import app  # noqa: PLC0415 - the broker settings come from the test run

    keys = [str(subject) for subject in subjects]
    ran: list[tuple[str, list[Any], Any]] = []
    for _ in range(rounds):
        rows = _take_due(context, keys, only, wait_out_delays)
        if not rows:
            return ran
        for row_id, payload in sorted(rows, key=lambda row: row[0]):
            result = app.tasks[payload["task"]](*payload["args"], follow_up=row_id)
            ran.append((payload["task"], payload["args"], result))
    raise AssertionError(f"follow-ups of {keys} still pending after {rounds} rounds: {ran[-5:]}")
