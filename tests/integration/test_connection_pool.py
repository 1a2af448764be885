"""A pooled connection is pinged only after sitting idle, and a dead one is replaced unseen."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models.store import db
from models.tables.base import normalise_url
from settings import Settings


def backend_of(session: Session) -> int:
    return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(settings: Settings, pid: int) -> None:
    """What a database restart does to the pool's connection."""
    other = create_engine(normalise_url(settings.require_database_url()))
    with other.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def own_sessions(settings: Settings, name: str) -> sessionmaker[Session]:
    """Sessions on an engine of the test's own, so its pool holds only the test's connection."""
    url = settings.require_database_url()
    return db.session_factory(f"{url}{'&' if '?' in url else '?'}application_name={name}")


def pooled_then_killed(settings: Settings, name: str) -> tuple[sessionmaker[Session], int]:
    """Sessions whose pool holds one connection, whose backend (the pid returned) is gone."""
    sessions = own_sessions(settings, name)
    with sessions() as session:
        killed = backend_of(session)
    terminate(settings, killed)
    return sessions, killed


def test_a_connection_killed_while_idle_is_replaced_before_use(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, killed = pooled_then_killed(settings, "pool-idle")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout counts as idle

    with sessions() as session:
        assert backend_of(session) != killed


def test_a_connection_in_steady_use_is_not_pinged(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions, killed = pooled_then_killed(settings, "pool-busy")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # every checkout counts as busy

    # Without a ping the dead connection is handed out, and its first statement fails.
    with pytest.raises(OperationalError), sessions() as session:
        backend_of(session)
    with sessions() as session:  # the pool threw it away: the next one is fresh
        assert backend_of(session) != killed
