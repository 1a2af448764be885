"""The admin API: tokens, warehouses, products, stock and orders, over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import jwt
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.domain.clock import utcnow
from models.tables.catalog import StockAlert
from models.tables.outbox import Outbox
from settings import Settings
from tests.admin_support import ADMIN, movements_of, new_shelf
from tests.factories import NEWARK, add_product, add_warehouse, order_body, stock_of

pytest_plugins = ["tests.admin_fixtures"]


def errors_of(response: Any) -> list[dict[str, str]]:
    assert response.mimetype == "application/problem+json"
    return list(response.get_json()["errors"])


def test_the_admin_api_refuses_requests_without_a_valid_token(
    client: FlaskClient, settings: Settings
) -> None:
    secret = settings.admin_jwt_secret.get_secret_value()
    now = utcnow()
    claims = {"sub": "mallory", "iat": now - timedelta(hours=2), "scope": "admin"}
    expired = jwt.encode(
        {**claims, "iss": "fulfillment", "exp": now - timedelta(hours=1)}, secret, "HS256"
    )
    forged = jwt.encode(
        {**claims, "iss": "fulfillment", "exp": now + timedelta(hours=1)},
        "a-forged-secret-of-thirty-two-bytes-or-more",
        "HS256",
    )

    missing = client.get("/admin/warehouses")
    bad = client.get("/admin/warehouses", headers={"Authorization": f"Bearer {forged}"})
    late = client.get("/admin/warehouses", headers={"Authorization": f"Bearer {expired}"})

    for response in (missing, bad, late):
        assert response.status_code == 401
        assert [e["field"] for e in errors_of(response)] == ["Authorization"]
    assert "expired" in errors_of(late)[0]["reason"]


def test_a_warehouse_added_by_postal_code_is_placed_on_the_map(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    code = f"NY-{uuid.uuid4().hex[:8]}"
    body = {"code": code, "name": "Manhattan", "country": "us", "postal_code": "10001"}

    created = client.post("/admin/warehouses", json=body, headers=admin_headers)
    listed = client.get("/admin/warehouses", headers=admin_headers)
    closed = client.patch(
        f"/admin/warehouses/{code}", json={"active": False}, headers=admin_headers
    )

    assert created.status_code == 201
    warehouse = created.get_json()
    assert (warehouse["country"], warehouse["active"]) == ("US", True)
    assert round(warehouse["latitude"]) == 41
    assert round(warehouse["longitude"]) == -74
    assert code in [w["code"] for w in listed.get_json()["warehouses"]]
    assert closed.get_json()["active"] is False


def test_a_warehouse_whose_postal_code_cannot_be_located_is_refused(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = {"code": f"X-{uuid.uuid4().hex[:8]}", "name": "Nowhere", "country": "US"}

    response = client.post(
        "/admin/warehouses", json={**body, "postal_code": "00000"}, headers=admin_headers
    )

    assert response.status_code == 422
    assert [e["field"] for e in errors_of(response)] == ["postal_code"]


def test_a_warehouse_in_a_country_iso_never_assigned_is_refused_naming_the_country(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    code = f"UK-{uuid.uuid4().hex[:8]}"
    body = {"code": code, "name": "London", "country": "UK", "postal_code": "SW1A 1AA"}
    coordinates = {"latitude": 51.5, "longitude": -0.14}

    refused = client.post("/admin/warehouses", json={**body, **coordinates}, headers=admin_headers)
    listed = client.get("/admin/warehouses", headers=admin_headers)

    assert refused.status_code == 422
    assert [e["field"] for e in errors_of(refused)] == ["country"]
    assert "ISO 3166-1 alpha-2" in errors_of(refused)[0]["reason"]
    assert code not in [w["code"] for w in listed.get_json()["warehouses"]]


def test_a_warehouse_country_is_corrected_to_an_iso_code_and_never_to_another(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    code = f"GB-{uuid.uuid4().hex[:8]}"
    body = {"code": code, "name": "London", "country": "IE", "postal_code": "SW1A 1AA"}
    client.post(
        "/admin/warehouses",
        json={**body, "latitude": 51.5, "longitude": -0.14},
        headers=admin_headers,
    )

    refused = client.patch(
        f"/admin/warehouses/{code}", json={"country": "UK"}, headers=admin_headers
    )
    corrected = client.patch(
        f"/admin/warehouses/{code}", json={"country": "gb"}, headers=admin_headers
    )

    assert refused.status_code == 422
    assert [e["field"] for e in errors_of(refused)] == ["country"]
    assert corrected.status_code == 200
    assert corrected.get_json()["country"] == "GB"


def test_a_second_warehouse_with_the_same_code_is_a_conflict(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = {
        "code": f"D-{uuid.uuid4().hex[:8]}",
        "name": "Twice",
        "country": "SE",
        "postal_code": "343 30",
        "latitude": 56.55,
        "longitude": 14.14,
    }

    first = client.post("/admin/warehouses", json=body, headers=admin_headers)
    second = client.post("/admin/warehouses", json=body, headers=admin_headers)

    assert (first.status_code, second.status_code) == (201, 409)
    assert errors_of(second)[0]["field"] == "code"


def test_unknown_fields_and_malformed_article_numbers_get_a_422_naming_them(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    product = {"name": "Lamp", "price": 1999, "colour": "red"}

    unknown = client.put("/admin/products/123.456.78", json=product, headers=admin_headers)
    malformed = client.put("/admin/products/12345678", json=product, headers=admin_headers)

    assert [e["field"] for e in errors_of(unknown)] == ["colour"]
    assert [e["field"] for e in errors_of(malformed)] == ["article_number"]


def test_a_product_is_created_then_updated_and_read_with_its_stock(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    shelf = new_shelf(sessions, on_hand=7)
    url = f"/admin/products/{shelf.article_number}"
    number = f"{uuid.uuid4().int % 10**8:08d}"
    new_url = f"/admin/products/{number[:3]}.{number[3:6]}.{number[6:]}"

    created = client.put(new_url, json={"name": "Desk", "price": 29900}, headers=admin_headers)
    updated = client.put(url, json={"name": "Chair", "price": 4900}, headers=admin_headers)
    read = client.get(url, headers=admin_headers).get_json()

    assert created.status_code == 201
    assert created.get_json()["currency"] == "USD"
    assert updated.status_code == 200
    assert (read["name"], read["price"]) == ("Chair", 4900)
    assert [(s["warehouse"], s["on_hand"], s["sellable"]) for s in read["stock"]] == [
        (shelf.warehouse_code, 7, 7)
    ]


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


def test_metrics_show_orders_alerts_and_the_outbox(client: FlaskClient) -> None:
    response = client.get("/metrics")

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'fulfillment_orders{status="received"}' in text
    assert 'fulfillment_orders{status="backordered"}' in text
    assert "fulfillment_low_stock_alerts_open " in text
    assert "fulfillment_outbox_pending " in text
    assert "fulfillment_outbox_failed " in text


def test_an_admin_reads_any_order_with_its_allocation_receipts(
    client: FlaskClient, admin_headers: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    number = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={number: 5})
    placed = client.post("/orders", json=order_body([(number, 2)])).get_json()

    response = client.get(f"/admin/orders/{placed['order_id']}", headers=admin_headers)
    missing = client.get(f"/admin/orders/{uuid.uuid4()}", headers=admin_headers)

    assert response.status_code == 200
    order = response.get_json()
    assert (order["order_id"], order["status"]) == (placed["order_id"], "received")
    assert order["receipts"] == []
    assert missing.status_code == 404
