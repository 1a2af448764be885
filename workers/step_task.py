"""The base of every task started from a follow-up row: it ends the row, whatever the step did.

A task is like a web view: it decodes ids and calls one step. This base maps what the step
did onto its follow-up row:

- an outcome: the row is done (in the step's own last transaction where the step did so);
- `TryLater`: the row is due again after the backoff the step asked for, durably, so the
  retry survives a broker restart;
- an exception on the never-retry list: the row fails at once and operations are told;
- any other exception (a bug, a surprise): retried with backoff, then failed and told.

Database trouble is the one exception left to Celery's own retry: with the database down
there is no row to write to, and the row's lease brings the task back anyway.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import Retry
from sqlalchemy import update
from sqlalchemy.orm import Session

from bootstrap import get_context
from models.domain.backoff import STEP_CAP_SECONDS, backoff
from models.domain.follow_ups import (
    CURRENT,
    REQUEST_ID_FIELD,
    SENT_HERE,
    Current,
    TryLater,
    sane_request_id,
)
from models.domain.tasks import NOTIFY
from models.ports import MailRejected, PaymentRejected
from models.store.errors import TRANSIENT_DB_ERRORS
from models.store.follow_ups import fail, finish, mail, reschedule
from models.store.orders import record_event
from models.tables.outbox import Outbox
from workers.mails_here import riders_of, send_mails, sends_mail_here
from workers.metrics import observed
from workers.step_log import order_of, run_logged

log = logging.getLogger(__name__)

# Failures no retry can mend (dramatiq calls these `throws`): a refusal that will be the
# same next time, a row that does not exist, data a step cannot use.
NEVER_RETRY: tuple[type[BaseException], ...] = (
    PaymentRejected,
    MailRejected,
    LookupError,
    ValueError,
    TypeError,
)

# Left to Celery: its own retry, and database trouble (with no database, no row to write).
CELERY_RETRIES: tuple[type[BaseException], ...] = (Retry, *TRANSIENT_DB_ERRORS)

# A step that keeps failing for no reason it knows is given up after this many tries.
MAX_UNEXPECTED = 8
STEP_FAILED = "step_failed"


def tell_operations(session: Session, task: str, args: tuple[Any, ...], error: str) -> None:
    """Record the failure on the order's timeline and mail operations once about it."""
    order_id = order_of(args)
    if order_id is None:
        log.error("%s%s failed for good: %s", task, args, error)
        return
    record_event(session, order_id, STEP_FAILED, detail={"task": task, "error": error[:300]})
    # A failed mail to operations is not itself mailed to operations: it would fail alike.
    if not (task == NOTIFY and len(args) > 1 and args[1] == STEP_FAILED):
        mail(session, order_id, STEP_FAILED)
    log.error("%s failed for good: %s", task, error, extra={"order_id": str(order_id)})


class StepTask(Task[Any, Any]):
    """A task whose run is recorded on its follow-up row; see the module's docstring."""

    def __call__(
        self,
        *args: Any,
        follow_up: int | None = None,
        riders: list[list[Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run the step, then end, reschedule or fail its follow-up row; then its mails."""
        if follow_up is None:
            return super().__call__(*args, **kwargs)
        mails = riders_of(riders, sane_request_id(self.request.get(REQUEST_ID_FIELD)))
        here = sends_mail_here(self.app)
        current = Current(follow_up)
        token = CURRENT.set(current)
        committed = SENT_HERE.set([] if here else None)
        try:
            with observed(self.name, args) as seen:
                return seen(
                    run_logged(self, current, args, lambda: self._run(current, args, kwargs))
                )
        finally:
            mails += SENT_HERE.get() or []
            SENT_HERE.reset(committed)
            CURRENT.reset(token)
            # Whatever the step's end: a mail committed before it is owed all the same.
            send_mails(self.app, mails, here=here, by=self.request.id)

    def _run(self, current: Current, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        work = get_context().work
        try:
            result = super().__call__(*args, **kwargs)
        except CELERY_RETRIES:
            raise
        except TryLater as exc:
            with work() as session:
                reschedule(session, current.id, delay=exc.delay, error=str(exc))
            current.outcome = "retry_later"
            return "retry_later"
        except NEVER_RETRY as exc:
            with work() as session:
                fail(session, current.id, error=f"{type(exc).__name__}: {exc}")
                tell_operations(session, self.name, args, f"{type(exc).__name__}: {exc}")
            current.outcome = "failed"
            return "failed"
        except Exception as exc:
            current.outcome = self._retry_or_fail(current, args, exc)
            return current.outcome
        if not current.finished:
            with work() as session:
                finish(session, current.id)
        return result

    def _retry_or_fail(self, current: Current, args: tuple[Any, ...], exc: Exception) -> str:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("%s raised %s", self.name, type(exc).__name__)
        with get_context().work() as session:
            tries = session.execute(
                update(Outbox)
                .where(Outbox.id == current.id)
                .values(last_error=error[:500])
                .returning(Outbox.attempts)
            ).scalar()
            if tries is not None and tries < MAX_UNEXPECTED:
                reschedule(
                    session, current.id, delay=backoff(tries, cap=STEP_CAP_SECONDS), error=error
                )
                return "retry_later"
            fail(session, current.id, error=error)
            tell_operations(session, self.name, args, error)
        return "failed"
