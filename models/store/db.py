"""Engines and units of work."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from models.tables.base import normalise_url

_engines: dict[tuple[int, str], Engine] = {}


def get_engine(url: str) -> Engine:
    """One engine per process and URL; a forked worker gets its own pool, never its parent's."""
    key = (os.getpid(), url)
    engine = _engines.get(key)
    if engine is None:
        engine = create_engine(
            normalise_url(url),
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            connect_args={"connect_timeout": 5, "application_name": "fulfillment"},
        )
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
