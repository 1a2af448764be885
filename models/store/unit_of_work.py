"""The unit of work: one transaction that commits a change and its follow-ups together."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
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
            session.info[PUBLISHES] = self.publishes
            session.info[LEASE] = self.lease_seconds
            with session.begin():
                yield session
            recorded: list[FollowUp] = session.info.pop(RECORDED, [])
            finished: Current | None = session.info.pop(FINISHES, None)
        if finished is not None:
            finished.finished = True
        self.publish_committed(recorded)

    @property
    def publishes(self) -> frozenset[str]:
        """The topics published right after commit; the relay alone publishes the others."""
        return self.publisher.topics if self.publisher else frozenset()

    @contextmanager
    def single_statements(self) -> Iterator[Connection]:
        """A connection on which each statement commits on its own.

        For a change written in one statement: no BEGIN and COMMIT round trips around it, and
        it is as atomic as any transaction. Whoever writes outbox rows this way hands them to
        `publish_committed` once the statement has returned.
        """
        engine: Engine = self.sessions.kw["bind"]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            yield connection

    def publish_committed(self, follow_ups: list[FollowUp]) -> None:
        """Publish the committed follow-ups whose writer was to publish them."""
        ready = [follow_up for follow_up in follow_ups if follow_up.publish_now]
        if ready and self.publisher is not None:
            self.publisher.publish(ready)
