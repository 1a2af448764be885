"""The admin API: tokens, warehouses, products, orders and metrics, over HTTP."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from models.domain.clock import utcnow
from settings import Settings
from tests.admin_support import errors_of, new_shelf
from tests.factories import NEWARK, add_product, add_warehouse, order_body

pytest_plugins = ["tests.admin_fixtures"]


def test_the_admin_api_refuses_requests_without_a_valid_token(
    client: FlaskClient, settings: Settings
) -> None:
    secret = settings.admin_jwt_secret.get_secret_value()
    now = utcnow()
    claims = {
        "sub": "mallory",
        "iat": now - timedelta(hours=2),
        "aud": "fulfillment-api",
        "jti": "a-token-id",
        "roles": ["staff:read", "staff:write"],
    }
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


def test_metrics_show_orders_alerts_and_the_outbox(client: FlaskClient, settings: Settings) -> None:
    token = settings.metrics_token.get_secret_value()
    response = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'fulfillment_orders{status="received"}' in text
    assert 'fulfillment_orders{status="backordered"}' in text
    assert "fulfillment_low_stock_alerts_open " in text
    assert "fulfillment_outbox_pending " in text
    assert "fulfillment_outbox_failed " in text


def test_metrics_need_the_metrics_token(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, admin_headers):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert "fulfillment_orders" not in response.get_data(as_text=True)


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
