"""The order API beyond placing and reading: lists, cancels, status by hand, the timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from intake.auth import CUSTOMER, STAFF_READ, STAFF_WRITE
from models.tables.orders import Order
from settings import Settings
from tests.integration.order_api_support import account_token, bearer, place, ship
from tests.integration.tracking_support import order_status, shipments, shipped_order


def listed(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    """Every order id the list shows, following its cursor to the end."""
    ids: list[str] = []
    url: str | None = f"/orders?limit=2{query}"
    while url:
        page = client.get(url, headers=headers)
        assert page.status_code == 200, page.get_json()
        ids += [row["order_id"] for row in page.get_json()["orders"]]
        cursor = page.get_json()["next_cursor"]
        url = f"/orders?limit=2{query}&cursor={cursor}" if cursor else None
    return ids


def test_a_customer_lists_their_own_orders_newest_first_page_by_page(
    client: FlaskClient, settings: Settings, product: str
) -> None:
    mine, theirs = account_token(settings, CUSTOMER), account_token(settings, CUSTOMER)
    placed = [place(client, product, mine).order_id for _ in range(5)]
    place(client, product, theirs)
    place(client, product)

    assert listed(client, bearer(mine)) == placed[::-1]


def test_a_page_of_orders_reads_all_their_lines_in_one_statement(
    client: FlaskClient, settings: Settings, product: str, statements: list[str]
) -> None:
    mine = account_token(settings, CUSTOMER)
    for _ in range(4):
        place(client, product, mine)
    statements.clear()

    page = client.get("/orders?limit=4", headers=bearer(mine)).get_json()["orders"]

    assert [row["items"] for row in page] == [1] * 4
    # Not a statement per order: the lines of the whole page come in one.
    assert len([s for s in statements if "FROM order_line" in s]) == 1, statements


def test_staff_list_everyones_orders_filtered_by_status_and_time(
    client: FlaskClient, settings: Settings, product: str, sessions: sessionmaker[Session]
) -> None:
    staff = bearer(account_token(settings, STAFF_READ))
    placed = [place(client, product).order_id for _ in range(3)]
    start = datetime(2031, 1, 1, tzinfo=UTC)  # later than any other test's orders
    with sessions.begin() as session:
        for day, order_id in enumerate(placed):
            session.execute(
                update(Order)
                .where(Order.id == uuid.UUID(order_id))
                .values(created_at=start + timedelta(days=day), status="backordered")
            )
    since = "&created_from=2031-01-02T00:00:00%2B00:00&status=backordered"

    assert listed(client, staff, since) == [placed[2], placed[1]]
    before = "&created_from=2031-01-01T00:00:00Z&created_before=2031-01-02T00:00:00Z"
    assert listed(client, staff, before) == [placed[0]]
    assert listed(client, staff, "&created_from=2031-01-01T00:00:00Z&status=paid") == []


def test_a_list_needs_an_account_and_refuses_what_it_cannot_read(
    client: FlaskClient, settings: Settings, product: str
) -> None:
    guest = place(client, product)
    staff = bearer(account_token(settings, STAFF_READ))

    assert client.get("/orders", headers=guest.headers).status_code == 401
    assert client.get("/orders").status_code == 401
    for query, field in [
        ("status=lost", "status[0]"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("created_from=yesterday", "created_from"),
        ("created_from=2031-01-01T00:00:00", "created_from"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("colour=red", "colour"),
    ]:
        refused = client.get(f"/orders?{query}", headers=staff)
        assert refused.status_code == 422, query
        assert refused.get_json()["errors"][0]["field"] == field, query


def test_a_guest_cancels_their_order_once_and_its_stock_returns(
    client: FlaskClient, product: str, context: Context
) -> None:
    guest = place(client, product)
    url = f"/orders/{guest.order_id}/cancel"

    first = client.post(url, json={"reason": "changed my mind"}, headers=guest.headers)
    again = client.post(url, headers=guest.headers)

    assert first.status_code == 202
    assert first.get_json()["status"] == "cancelled"
    assert (again.status_code, again.get_json()["already_cancelled"]) == (200, True)
    events = client.get(f"/orders/{guest.order_id}/events", headers=guest.headers).get_json()
    cancelled = [e for e in events["events"] if e["event"] == "cancelled"]
    assert [e["detail"] for e in cancelled] == [{"reason": "changed my mind", "by": "guest"}]


def test_a_shipped_order_cannot_be_cancelled_by_its_customer(
    client: FlaskClient, product: str, context: Context, settings: Settings
) -> None:
    customer = account_token(settings, CUSTOMER)
    mine = place(client, product, customer)
    ship(context, mine.order_id)

    refused = client.post(f"/orders/{mine.order_id}/cancel", headers=mine.headers)

    assert refused.status_code == 409
    assert "shipped" in refused.get_json()["detail"]
    assert order_status(context.sessions, uuid.UUID(mine.order_id)) == "shipped"


def test_staff_set_a_status_only_along_the_moves_a_person_may_make(
    client: FlaskClient, product: str, settings: Settings
) -> None:
    staff = bearer(account_token(settings, STAFF_READ, STAFF_WRITE))
    order = place(client, product)
    url = f"/orders/{order.order_id}/status"

    refused = client.patch(url, json={"status": "shipped"}, headers=staff)
    cancelled = client.patch(url, json={"status": "cancelled", "reason": "fraud"}, headers=staff)
    again = client.patch(url, json={"status": "cancelled"}, headers=staff)
    final = client.patch(url, json={"status": "received"}, headers=staff)

    assert refused.status_code == 409
    assert refused.get_json()["allowed"] == ["cancelled"]
    assert refused.get_json()["current_status"] == "received"
    assert cancelled.get_json() == {
        "order_id": order.order_id,
        "status": "cancelled",
        "changed": True,
    }
    assert (again.status_code, again.get_json()["changed"]) == (200, False)
    assert final.status_code == 409
    assert final.get_json()["allowed"] == []
    assert client.patch(url, json={"status": "lost"}, headers=staff).status_code == 422


def test_staff_confirm_a_delivery_and_every_parcel_is_delivered(
    client: FlaskClient, product: str, context: Context, settings: Settings
) -> None:
    staff = bearer(account_token(settings, STAFF_READ, STAFF_WRITE))
    order_id = shipped_order(client, context, [(product, 1)])

    done = client.patch(f"/orders/{order_id}/status", json={"status": "delivered"}, headers=staff)

    assert done.get_json()["status"] == "delivered"
    assert order_status(context.sessions, order_id) == "delivered"
    assert {s.status for s in shipments(context.sessions, order_id)} == {"delivered"}
