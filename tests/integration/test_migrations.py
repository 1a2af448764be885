"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.orm import Session, sessionmaker

from models.tables import Base


def test_the_migrated_database_matches_the_models(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        differences = compare_metadata(
            MigrationContext.configure(session.connection()), Base.metadata
        )

    assert differences == []
