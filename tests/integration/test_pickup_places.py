"""A warehouse's pickup place: its street address, city and opening hours, set by the admin
API and the admin CLI, and given to the demo warehouses."""

from __future__ import annotations

import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from devstack.postgres import fresh_database
from devstack.seed import WAREHOUSES, seed
from models.tables.base import normalise_url
from models.tables.catalog import Warehouse
from models.tables.migrate import upgrade
from settings import Settings
from tests.admin_support import errors_of

pytest_plugins = ["tests.admin_fixtures"]


def test_a_warehouse_is_opened_with_its_pickup_address_and_given_its_hours_later(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    code = f"US-{uuid.uuid4().hex[:8]}"
    body = {
        "code": code,
        "name": "Newark Store",
        "country": "US",
        "postal_code": "07102",
        "latitude": 40.73,
        "longitude": -74.17,
        "address_line1": "12 Market St",
        "city": "Newark, NJ",
    }

    created = client.post("/admin/warehouses", json=body, headers=admin_headers)
    hours = client.patch(
        f"/admin/warehouses/{code}", json={"opening_hours": "Mon-Sat 10-20"}, headers=admin_headers
    )
    empty = client.patch(f"/admin/warehouses/{code}", json={"city": "  "}, headers=admin_headers)

    assert created.status_code == 201
    assert (created.get_json()["address_line1"], created.get_json()["city"]) == (
        "12 Market St",
        "Newark, NJ",
    )
    assert created.get_json()["opening_hours"] is None
    assert hours.get_json()["opening_hours"] == "Mon-Sat 10-20"
    assert hours.get_json()["address_line1"] == "12 Market St"
    assert empty.status_code == 422
    assert [e["field"] for e in errors_of(empty)] == ["city"]


def test_the_admin_cli_opens_a_warehouse_with_its_pickup_address(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    code = f"SE-{uuid.uuid4().hex[:8]}"

    result = app.test_cli_runner().invoke(
        args=[
            "admin", "warehouse", "add", "--code", code, "--name", "Malmö Store",
            "--country", "SE", "--postal-code", "215 32", "--lat", "55.56", "--lon", "12.98",
            "--address", "Hyllie Boulevard 10", "--city", "Malmö",
            "--opening-hours", "Mon-Sun 10-20",
        ]
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    with sessions() as session:
        warehouse = session.scalars(select(Warehouse).where(Warehouse.code == code)).one()
    assert (warehouse.address_line1, warehouse.city, warehouse.opening_hours) == (
        "Hyllie Boulevard 10",
        "Malmö",
        "Mon-Sun 10-20",
    )


def test_every_demo_warehouse_has_a_pickup_address_even_one_seeded_before_addresses(
    settings: Settings,
) -> None:
    with fresh_database(settings.require_database_url()) as url:
        upgrade(url)
        engine = create_engine(normalise_url(url))
        with Session(engine) as session, session.begin():
            seed(session, "USD")
            session.execute(update(Warehouse).values(address_line1=None, city=None))
        with Session(engine) as session, session.begin():
            seed(session, "USD")
        with Session(engine) as session:
            places = session.execute(select(Warehouse.code, Warehouse.address_line1)).all()
        engine.dispose()

    assert len(places) == len(WAREHOUSES)
    assert all(line1 for _, line1 in places)
