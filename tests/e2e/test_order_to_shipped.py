"""The whole system as processes: intake, dispatcher, two Celery workers, beat, Flower."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from intake.auth import issue_admin_token
from intake.signatures import sign
from models.domain.tracking import is_valid_ups
from models.tables.catalog import Warehouse
from settings import Settings
from tests.e2e.system import final_view, place, wait_for
from tests.factories import NEWARK, add_product, add_warehouse, order_body, stock_of
from tests.infra import Mailbox, message_text

pytestmark = pytest.mark.e2e


def warehouse_code_of(sessions: sessionmaker[Session], warehouse_id: int) -> str:
    with sessions() as session:
        warehouse = session.get(Warehouse, warehouse_id)
        assert warehouse is not None
        return warehouse.code


def test_an_order_goes_from_post_to_a_shipped_email(
    stack: dict[str, str], sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    bed = add_product(sessions, price=29900)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})

    placed = place(stack["api"], order_body([(bed, 2)]))
    view = final_view(placed)

    assert view["status"] == "shipped"
    # Paid by an authorisation, captured as the order leaves (PAYMENT_CAPTURE=at_shipment).
    assert [e["event"] for e in view["timeline"] if e["event"] != "notified"][:6] == [
        "received",
        "dispatched",
        "allocated",
        "paid",
        "captured",
        "shipped",
    ]
    tracking = view["shipments"][0]["tracking_number"]
    assert is_valid_ups(tracking)
    assert view["payment"]["status"] == "succeeded"
    assert stock_of(sessions, newark, bed) == (3, 0)
    mails = wait_for(lambda: (m := mailbox.for_order(placed["order_id"])) and len(m) >= 3 and m, 30)
    subjects = sorted(m["Subject"] for m in mails)
    assert len(mails) == 3
    assert any("on its way" in s for s in subjects)
    assert any("received your order" in s for s in subjects)
    assert any("is confirmed" in s for s in subjects)
    shipped = next(m for m in mails if "on its way" in m["Subject"])
    assert tracking in message_text(shipped)


def test_a_declined_card_ends_in_payment_failed_with_stock_released_and_an_email(
    stack: dict[str, str], sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})

    placed = place(stack["api"], order_body([(bed, 1)], payment_method="pm_card_chargeDeclined"))
    view = final_view(placed)

    assert view["status"] == "payment_failed"
    assert stock_of(sessions, newark, bed) == (5, 0)
    mails = wait_for(lambda: (m := mailbox.for_order(placed["order_id"])) and len(m) >= 2 and m, 30)
    assert any("did not go through" in m["Subject"] for m in mails)


def test_flower_lists_the_worker_and_the_tasks_it_ran(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    placed = place(stack["api"], order_body([(bed, 1)]))
    final_view(placed)
    auth = (settings.flower_user, settings.flower_password.get_secret_value())

    # Its pages and its Prometheus view need the login; only the health check is open.
    for path, status in (("/api/workers", 401), ("/metrics", 401), ("/healthcheck", 200)):
        assert requests.get(f"{stack['flower']}{path}", timeout=10).status_code == status
    metrics = requests.get(f"{stack['flower']}/metrics", auth=auth, timeout=10)
    assert "flower_events_total" in metrics.text
    workers = wait_for(
        lambda: requests.get(
            f"{stack['flower']}/api/workers?refresh=1", auth=auth, timeout=20
        ).json(),
        30,
    )
    # The order's mails are sent by the worker right after the step that asked for them
    # (workers/mails_here.py): the steps are the tasks Flower sees.
    expected = {f"fulfillment.{name}" for name in ("allocate", "charge", "ship")}

    def names() -> set[str]:
        tasks = requests.get(f"{stack['flower']}/api/tasks", auth=auth, timeout=10).json()
        return {t["name"] for t in tasks.values() if placed["order_id"] in str(t.get("args"))}

    # Flower learns of each task from its events, a moment after the worker ran it.
    seen = wait_for(lambda: (found := names()) >= expected and found, 30)

    assert len(workers) >= 1
    assert expected <= seen


def test_a_backordered_order_ships_when_an_admin_restocks_and_operations_hear_of_low_stock(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 0})
    placed = place(stack["api"], order_body([(bed, 2)]))
    headers = {"Authorization": f"Bearer {placed['order_token']}"}

    held = wait_for(
        lambda: (
            (v := requests.get(placed["status_url"], headers=headers, timeout=5).json())["status"]
            == "backordered"
            and v
        ),
        30,
    )
    assert held["allocation"]["outcome"] == "short"
    assert held["allocation"]["lines"] == []
    token = issue_admin_token(settings, "e2e-restock")
    warehouse_code = warehouse_code_of(sessions, newark)
    restocked = requests.put(
        f"{stack['api']}/admin/stock/{warehouse_code}/{bed}",
        json={"on_hand": 3, "reason": "delivery from supplier"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert restocked.status_code == 200, restocked.text
    view = final_view(placed)

    assert view["status"] == "shipped"
    assert stock_of(sessions, newark, bed) == (1, 0)
    mails = wait_for(lambda: (m := mailbox.for_order(placed["order_id"])) and len(m) >= 4 and m, 30)
    subjects = " | ".join(sorted(m["Subject"] for m in mails))
    assert "on backorder" in subjects
    assert "back in stock" in subjects
    assert "on its way" in subjects
    alerts = wait_for(lambda: [m for m in mailbox.messages if bed in str(m["Subject"])], 30)
    assert len(alerts) == 1
    assert alerts[0]["To"] == settings.operations_email
    assert "Low stock" in alerts[0]["Subject"]


def test_a_cancelled_order_releases_its_stock_and_the_customer_is_told(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 1})
    placed = place(stack["api"], order_body([(bed, 3)]))
    headers = {"Authorization": f"Bearer {placed['order_token']}"}
    wait_for(
        lambda: (
            requests.get(placed["status_url"], headers=headers, timeout=5).json()["status"]
            == "backordered"
        ),
        30,
    )
    admin = {"Authorization": f"Bearer {issue_admin_token(settings, 'e2e-cancel')}"}

    first = requests.post(
        f"{stack['api']}/admin/orders/{placed['order_id']}/cancel",
        json={"reason": "customer changed their mind"},
        headers=admin,
        timeout=10,
    )
    again = requests.post(
        f"{stack['api']}/admin/orders/{placed['order_id']}/cancel",
        json={"reason": "customer changed their mind"},
        headers=admin,
        timeout=10,
    )

    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["refund"] == "none"
    assert final_view(placed)["status"] == "cancelled"
    assert stock_of(sessions, newark, bed) == (1, 0)
    mails = wait_for(
        lambda: [m for m in mailbox.for_order(placed["order_id"]) if "cancelled" in m["Subject"]],
        30,
    )
    assert len(mails) == 1
    assert "You were not charged" in message_text(mails[0])


def test_a_carrier_delivery_event_delivers_the_order_and_the_customer_is_told(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session], mailbox: Mailbox
) -> None:
    bed = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    placed = place(stack["api"], order_body([(bed, 1)]))
    tracking = final_view(placed)["shipments"][0]["tracking_number"]
    body = json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "shipment.delivered",
            "tracking_number": tracking,
            "occurred_at": "2026-11-21T12:00:00+00:00",
        }
    ).encode()
    secret = settings.carrier_webhook_secret.get_secret_value()

    response = requests.post(
        f"{stack['api']}/webhooks/carrier",
        data=body,
        headers={"Carrier-Signature": sign(secret, body, int(time.time()))},
        timeout=10,
    )

    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {placed['order_token']}"}
    view = requests.get(placed["status_url"], headers=headers, timeout=5).json()
    assert view["status"] == "delivered"
    assert view["shipments"][0]["delivered_at"]
    mails = wait_for(
        lambda: [m for m in mailbox.for_order(placed["order_id"]) if "delivered" in m["Subject"]],
        30,
    )
    assert len(mails) == 1
