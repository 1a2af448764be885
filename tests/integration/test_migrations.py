"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import psycopg
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from models.db import normalise_url
from models.migrate import alembic_config, upgrade
from models.tables import Base
from settings import Settings
from tests.infra import fresh_database


def test_the_migrated_database_matches_the_models(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        differences = compare_metadata(
            MigrationContext.configure(session.connection()), Base.metadata
        )

    assert differences == []


def test_every_migration_runs_down_to_nothing_and_up_again(settings: Settings) -> None:
    server = settings.require_database_url()
    with fresh_database(server) as url:
        config = alembic_config(url)
        command.downgrade(config, "base")
        with psycopg.connect(url) as connection:
            tables = connection.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_name <> 'alembic_version'"
            ).fetchone()
        assert tables == (0,)
        upgrade(url)
        engine = create_engine(normalise_url(url))
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        engine.dispose()
