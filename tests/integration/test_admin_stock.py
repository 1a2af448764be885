"""The admin API for stock: counts, adjustments, CSV imports and low-stock alerts, over HTTP."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.tables.catalog import StockAlert
from models.tables.outbox import Outbox
from tests.admin_support import ADMIN, errors_of, movements_of, new_shelf
from tests.factories import stock_of

pytest_plugins = ["tests.admin_fixtures"]


def test_counts_and_adjustments_are_recorded_with_the_admin_and_the_reason(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    shelf = new_shelf(sessions)
    url = f"/admin/stock/{shelf.warehouse_code}/{shelf.article_number}"

    counted = client.put(url, json={"on_hand": 20, "reason": "cycle count"}, headers=admin_headers)
    adjusted = client.post(
        f"{url}/adjustments", json={"change": -3, "reason": "damaged"}, headers=admin_headers
    )
    history = client.get(f"{url}/movements", headers=admin_headers).get_json()

    assert counted.status_code == 200
    assert adjusted.status_code == 201
    assert (adjusted.get_json()["on_hand"], adjusted.get_json()["sellable"]) == (17, 17)
    assert [
        (m["change"], m["on_hand_after"], m["reason"], m["actor"]) for m in history["movements"]
    ] == [(-3, 17, "damaged", ADMIN), (20, 20, "cycle count", ADMIN)]


def test_an_adjustment_below_what_orders_hold_is_refused_and_changes_nothing(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    shelf = new_shelf(sessions, on_hand=10, reserved=8)
    url = f"/admin/stock/{shelf.warehouse_code}/{shelf.article_number}/adjustments"

    response = client.post(url, json={"change": -5, "reason": "lost"}, headers=admin_headers)
    no_reason = client.post(url, json={"change": -1}, headers=admin_headers)

    assert response.status_code == 422
    assert errors_of(response)[0]["field"] == "change"
    assert [e["field"] for e in errors_of(no_reason)] == ["reason"]
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (10, 8)
    assert movements_of(sessions, shelf) == []


def import_csv(client: FlaskClient, headers: dict[str, str], text: str) -> Any:
    return client.post(
        "/admin/stock/import", data=text, headers={**headers, "Content-Type": "text/csv"}
    )


def test_a_stock_file_with_two_bad_rows_is_refused_listing_both(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    shelf = new_shelf(sessions, on_hand=2)
    text = (
        f"{shelf.warehouse_code},{shelf.article_number},50\n"
        f"{shelf.warehouse_code},{shelf.article_number},many\n"
        f"NO-SUCH-WAREHOUSE,{shelf.article_number},5\n"
    )

    response = import_csv(client, admin_headers, text)

    assert response.status_code == 422
    assert [e["field"] for e in errors_of(response)] == [
        "line 2.on_hand",
        "line 2.article_number",
        "line 3.warehouse_code",
    ]
    assert stock_of(sessions, shelf.warehouse_id, shelf.article_number) == (2, 0)


def test_a_good_stock_file_is_imported_and_recorded(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    first, second = new_shelf(sessions, on_hand=2), new_shelf(sessions)
    text = (
        "warehouse_code,article_number,on_hand,low_stock_threshold\n"
        f"{first.warehouse_code},{first.article_number},12,\n"
        f"{second.warehouse_code},{second.article_number},40,10\n"
    )

    response = import_csv(client, admin_headers, text)

    assert response.get_json() == {"imported": 2}
    assert [(m.change, m.actor) for m in movements_of(sessions, first)] == [(10, ADMIN)]
    assert stock_of(sessions, second.warehouse_id, second.article_number) == (40, 0)


def test_a_low_stock_alert_is_announced_once_until_restocked(
    client: FlaskClient,
    admin_headers: dict[str, str],
    sessions: sessionmaker[Session],
) -> None:
    shelf = new_shelf(sessions)
    url = f"/admin/stock/{shelf.warehouse_code}/{shelf.article_number}"

    def take(units: int) -> None:
        body = {"change": -units, "reason": "sold at the counter"}
        assert (
            client.post(f"{url}/adjustments", json=body, headers=admin_headers).status_code == 201
        )

    count = {"on_hand": 6, "reason": "delivery", "low_stock_threshold": 4}
    client.put(url, json=count, headers=admin_headers)
    take(3)  # 3 left, below 4: fires
    take(1)
    take(1)
    client.put(url, json={"on_hand": 9, "reason": "delivery"}, headers=admin_headers)
    take(6)  # 3 left again: fires anew

    with sessions() as session:
        alerts = session.scalars(
            select(StockAlert.id)
            .where(
                StockAlert.warehouse_id == shelf.warehouse_id,
                StockAlert.article_number == shelf.article_number,
            )
            .order_by(StockAlert.id)
        ).all()
        mails = session.scalars(
            select(Outbox.message_key).where(
                Outbox.message_key.in_([str(a) for a in alerts]),
                Outbox.payload["task"].astext == "fulfillment.alert_low_stock",
            )
        ).all()
    assert len(alerts) == 2
    # Each alert's mail to operations was recorded with the change that opened it.
    assert sorted(mails) == sorted(str(a) for a in alerts)
