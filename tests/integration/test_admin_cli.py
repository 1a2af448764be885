"""`flask --app intake admin ...` through Flask's CLI runner, against the real database."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import uuid
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.tables.catalog import Product, Warehouse
from settings import Settings
from tests.admin_support import movements_of, new_shelf
from tests.factories import article_number, stock_of


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["admin", *args])
    return result.exit_code, result.output.strip()


def test_a_cli_token_opens_the_admin_api(app: Flask, client: FlaskClient) -> None:
    code, token = run(app, "token", "--subject", "alice", "--minutes", "5")

    response = client.get("/admin/warehouses", headers={"Authorization": f"Bearer {token}"})

    assert code == 0
    assert response.status_code == 200


def test_a_revoked_token_is_refused_though_it_has_not_expired(
    app: Flask, client: FlaskClient
) -> None:
    code, token = run(app, "token", "--subject", "alice", "--minutes", "5")
    headers = {"Authorization": f"Bearer {token}"}
    before = client.get("/admin/warehouses", headers=headers)

    revoked, said = run(app, "revoke", token)
    again, said_again = run(app, "revoke", token)
    after = client.get("/admin/warehouses", headers=headers)

    assert (code, before.status_code) == (0, 200)
    assert (revoked, again) == (0, 0)
    assert said.startswith("revoked ")
    assert said_again.endswith("was revoked already")
    assert after.status_code == 401
    assert "revoked" in after.get_json()["errors"][0]["reason"]


def test_a_read_only_token_reads_but_cannot_change_anything(
    app: Flask, client: FlaskClient
) -> None:
    _, token = run(app, "token", "--subject", "auditor", "--role", "staff:read")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"code": f"RO-{uuid.uuid4().hex[:6]}", "name": "x", "country": "US"}

    read = client.get("/admin/warehouses", headers=headers)
    write = client.post("/admin/warehouses", json=body, headers=headers)

    assert read.status_code == 200
    assert write.status_code == 403
    assert "staff:write" in write.get_json()["errors"][0]["reason"]


def test_the_token_command_needs_no_database_and_its_token_opens_the_admin_api(
    settings: Settings, client: FlaskClient
) -> None:
    # As a newcomer's shell runs it beside `make run`: the secret set, no DATABASE_URL.
    env = {
        key: value
        for key, value in os.environ.items()
        if key.upper() not in {"DATABASE_URL", "REDIS_URL", "SQS_ENDPOINT_URL"}
    }
    env["ADMIN_JWT_SECRET"] = settings.admin_jwt_secret.get_secret_value()
    done = subprocess.run(
        [sys.executable, "-m", "intake.tokens", "--subject", "alice", "--minutes", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr  # run as a package's __main__, imported once
    token = done.stdout.strip()
    response = client.get("/admin/warehouses", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_warehouses_are_added_by_coordinates_or_by_postal_code(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    placed, located = f"SE-{uuid.uuid4().hex[:8]}", f"US-{uuid.uuid4().hex[:8]}"
    common = ["warehouse", "add", "--name", "Älmhult"]

    by_coordinates = run(
        app, *common, "--code", placed, "--country", "SE", "--postal-code", "343 30",
        "--lat", "56.55", "--lon", "14.14", "--no-self-service",
    )  # fmt: skip
    by_postal_code = run(
        app, *common, "--code", located, "--country", "US", "--postal-code", "10001"
    )

    assert (by_coordinates[0], by_postal_code[0]) == (0, 0)
    with sessions() as session:
        found = {
            w.code: w
            for w in session.scalars(select(Warehouse).where(Warehouse.code.in_([placed, located])))
        }
    assert (found[placed].latitude, found[placed].allows_self_service) == (56.55, False)
    assert round(found[located].latitude) == 41


def test_products_and_stock_are_set_adjusted_and_recorded_as_the_os_user(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    shelf = new_shelf(sessions, on_hand=1)
    number = article_number()

    product = run(app, "product", "set", number, "--name", "Bookcase", "--price", "29900")
    counted = run(
        app, "stock", "set", shelf.warehouse_code, shelf.article_number, "10", "--reason", "count"
    )
    taken = run(
        app,
        "stock",
        "adjust",
        shelf.warehouse_code,
        shelf.article_number,
        "-3",
        "--reason",
        "broken",
    )

    assert [product[0], counted[0], taken[0]] == [0, 0, 0]
    assert "sellable 7" in taken[1]
    with sessions() as session:
        assert session.get(Product, number) is not None
    assert [(m.change, m.reason, m.actor) for m in movements_of(sessions, shelf)] == [
        (9, "count", f"cli:{getpass.getuser()}"),
        (-3, "broken", f"cli:{getpass.getuser()}"),
    ]


def test_a_stock_file_is_imported_from_the_command_line(
    app: Flask, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    shelf = new_shelf(sessions)
    stock_file = tmp_path / "spring.csv"
    stock_file.write_text(f"{shelf.warehouse_code},{shelf.article_number},25\n")

    code, output = run(app, "stock", "import", str(stock_file))

    assert (code, output) == (0, "imported 1 rows")
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (25, 0)
    assert movements_of(sessions, shelf)[0].reason == "import spring.csv"


def test_a_refused_change_exits_1_with_a_one_line_reason(
    app: Flask, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    shelf = new_shelf(sessions, on_hand=5, reserved=5)
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(f"{shelf.warehouse_code},{shelf.article_number},-2\n")

    below = run(app, "stock", "adjust", shelf.warehouse_code, shelf.article_number, "-1",
                "--reason", "lost")  # fmt: skip
    unknown = run(app, "stock", "set", "NO-SUCH", shelf.article_number, "1", "--reason", "x")
    imported = run(app, "stock", "import", str(bad_file))

    for code, output in (below, unknown, imported):
        assert code == 1
        assert output.startswith("Error: ")
        assert len(output.splitlines()) == 1
    assert "reserved" in below[1]
    assert "NO-SUCH" in unknown[1]
    assert "line 1.on_hand" in imported[1]
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (5, 5)


def test_a_warehouse_in_a_country_iso_never_assigned_is_refused_and_not_added(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    code = f"UK-{uuid.uuid4().hex[:8]}"

    exit_code, output = run(
        app, "warehouse", "add", "--code", code, "--name", "London", "--country", "UK",
        "--postal-code", "SW1A 1AA", "--lat", "51.5", "--lon", "-0.14",
    )  # fmt: skip

    assert exit_code == 1
    assert output.startswith("Error: country: ")
    assert "ISO 3166-1 alpha-2" in output
    with sessions() as session:
        assert session.scalar(select(Warehouse).where(Warehouse.code == code)) is None
