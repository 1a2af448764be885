"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import re

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from devstack.postgres import fresh_database
from models.domain.countries import ISO_COUNTRIES
from models.tables import Base
from models.tables.base import normalise_url
from models.tables.migrate import alembic_config, upgrade
from settings import Settings


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


def _countries_allowed(session: Session, table: str, column: str) -> set[str]:
    definitions = session.scalars(
        text(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = CAST(:table AS regclass) AND contype = 'c'"
        ),
        {"table": f'"{table}"'},
    )
    (definition,) = [d for d in definitions if column in d]
    return set(re.findall(r"'([A-Z]{2})'", definition))


def test_the_database_allows_exactly_the_assigned_country_codes(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        warehouse = _countries_allowed(session, "warehouse", "country")
        order = _countries_allowed(session, "order", "ship_country")

    assert warehouse == order == ISO_COUNTRIES


def test_the_database_refuses_a_warehouse_in_a_country_iso_never_assigned(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin(), pytest.raises(IntegrityError, match="country"):
        session.execute(
            text(
                "INSERT INTO warehouse (code, name, postal_code, country, latitude, longitude,"
                " active, allows_self_service, created_at)"
                " VALUES ('UK-LON', 'London', 'SW1A 1AA', 'UK', 51.5, -0.14, true, true, now())"
            )
        )


def test_the_country_check_is_not_added_over_rows_it_would_refuse_but_names_them(
    settings: Settings,
) -> None:
    with fresh_database(settings.require_database_url()) as url:
        command.downgrade(alembic_config(url), "0005")
        with psycopg.connect(url) as connection:
            connection.execute(
                "INSERT INTO warehouse (code, name, postal_code, country, latitude, longitude,"
                " active, allows_self_service, created_at)"
                " VALUES ('UK-LON', 'London', 'SW1A 1AA', 'UK', 51.5, -0.14, true, true, now())"
            )

        with pytest.raises(RuntimeError, match=r"warehouse\.country = 'UK' \(1 rows\)"):
            upgrade(url)
