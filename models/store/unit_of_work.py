"""The unit of work: one transaction that commits a change and its follow-ups together."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from models.domain.follow_ups import (
    DEFAULT_LEASE_SECONDS,
    FINISHES,
    LEASE,
    PUBLISHES,
    RECORDED,
    Current,
    FollowUp,
)
from models.ports import Publisher

log = logging.getLogger(__name__)


class Work:
    """Opens units of work on a database, publishing what each recorded once it commits.

    `with work() as session:` is one transaction. Publishing after commit only saves the
    relay's wait; a crash between commit and publish loses nothing, because the rows are
    committed and the relay publishes whatever is due.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publisher: Publisher | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.lease_seconds = lease_seconds

    @contextmanager
    def __call__(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions() as session:
            session.info[PUBLISHES] = self.publisher.topics if self.publisher else frozenset()
            session.info[LEASE] = self.lease_seconds
            with session.begin():
                yield session
            recorded: list[FollowUp] = session.info.pop(RECORDED, [])
            finished: Current | None = session.info.pop(FINISHES, None)
        if finished is not None:
            finished.finished = True
        ready = [follow_up for follow_up in recorded if follow_up.publish_now]
        if ready and self.publisher is not None:
            self.publisher.publish(ready)
