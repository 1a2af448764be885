"""Engines and units of work."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from models.tables.base import normalise_url

_engines: dict[tuple[int, str], Engine] = {}
# A pooled connection idle longer than this is pinged before use. One in steady use is not:
# a ping per checkout is a round trip per transaction, two dozen per order.
PING_AFTER_IDLE_SECONDS = 1.0
CHECKED_IN = "checked_in_at"


def _remember_checkin(_dbapi: Any, record: Any) -> None:
    record.info[CHECKED_IN] = time.monotonic()


def _ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
    """Ping a connection that sat idle; a dead one is replaced before anyone uses it."""
    checked_in = record.info.get(CHECKED_IN)
    # A connection never checked in was opened just now, for this checkout: nothing to ask.
    if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
        return
    try:
        with dbapi.cursor() as cursor:
            cursor.execute("SELECT 1")
        dbapi.rollback()
    except psycopg.Error as error:
        # The pool discards this connection and checks out a fresh one.
        raise DisconnectionError(str(error)) from error


def get_engine(url: str) -> Engine:
    """One engine per process and URL; a forked worker gets its own pool, never its parent's."""
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        engine = create_engine(
            normalise_url(url),
            pool_size=5,
            max_overflow=10,
            connect_args={"connect_timeout": 5, "application_name": "fulfillment"},
            # A failed statement's error message never quotes its parameters: they hold
            # customers' names, addresses and emails, and error messages reach log lines.
            hide_parameters=True,
        )
        event.listen(engine, "checkin", _remember_checkin)
        event.listen(engine, "checkout", _ping_if_idle)
        _engines[key] = engine
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    """Sessions bound to the process's engine for `url`."""
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def unit_of_work(url: str) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with session_factory(url)() as session, session.begin():
        yield session
