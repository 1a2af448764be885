"""Shipments on their way: carriers per route, labels, admin updates and signed carrier webhooks."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.domain.signatures import sign
from models.domain.tracking import identify, ups_tracking_number
from models.fulfilment import Shipment
from models.geonames import SWEDEN, import_file
from models.infra import Outbox
from models.orders import Order
from models.tracking_updates import apply_tracking
from settings import Settings
from tests.factories import CHICAGO, MALMO, NEWARK, add_product, add_warehouse, order_body
from workers.allocating import Allocated, allocate_order
from workers.charging import Charged, charge_order
from workers.context import Context
from workers.shipping import Shipped, ship_order

pytest_plugins = ["tests.admin_fixtures"]

SWEDISH_ADDRESS = {
    "line1": "Storgatan 1",
    "city": "Malmö",
    "postal_code": "211 19",
    "country": "SE",
}


def shipped_order(
    client: FlaskClient, context: Context, lines: list[tuple[str, int]], **overrides: Any
) -> uuid.UUID:
    response = client.post("/orders", json=order_body(lines, **overrides))
    assert response.status_code == 202, response.get_json()
    order_id = uuid.UUID(response.get_json()["order_id"])
    assert (
        allocate_order(context.work, context.directory, context.settings, order_id).outcome
        is Allocated.ALLOCATED
    )
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    assert ship_order(context.work, context.carriers, order_id) is Shipped.SHIPPED
    return order_id


def shipments(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[Shipment]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
            )
        )


def order_status(sessions: sessionmaker[Session], order_id: uuid.UUID) -> str:
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


def signed(
    settings: Settings, event: dict[str, Any], at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    header = sign(settings.carrier_webhook_secret.get_secret_value(), body, int(at or time.time()))
    return body, {"Carrier-Signature": header, "Content-Type": "application/json"}


def event(number: str, kind: str = "shipment.delivered") -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "tracking_number": number,
        "occurred_at": "2026-11-21T12:00:00+00:00",
    }


@pytest.fixture(scope="module")
def sweden(sessions: sessionmaker[Session]) -> None:
    """Swedish postal codes, from the file the project ships (an idempotent upsert)."""
    with sessions() as session, session.begin():
        import_file(session, SWEDEN)


@pytest.mark.usefixtures("sweden")
def test_each_route_gets_its_carrier_and_a_valid_tracking_number(
    client: FlaskClient, context: Context
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    add_warehouse(
        context.sessions, latitude=MALMO[0], longitude=MALMO[1], stock={lamp: 5}, country="SE"
    )

    domestic = shipments(context.sessions, shipped_order(client, context, [(lamp, 1)]))
    swedish = shipments(
        context.sessions,
        shipped_order(client, context, [(lamp, 1)], shipping_address=SWEDISH_ADDRESS),
    )

    assert [(s.carrier, identify(s.tracking_number)) for s in domestic] == [("ups", "ups")]
    assert [(s.carrier, identify(s.tracking_number)) for s in swedish] == [("post", "s10")]
    assert swedish[0].tracking_number.endswith("SE")
    assert "postnord" in swedish[0].tracking_url
    assert domestic[0].eta is not None


def test_a_split_order_is_delivered_when_its_last_parcel_arrives(
    client: FlaskClient, context: Context, admin_headers: dict[str, str]
) -> None:
    bed, lamp = add_product(context.sessions), add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    add_warehouse(context.sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(bed, 1), (lamp, 1)])
    first, second = shipments(context.sessions, order_id)
    url = f"/orders/{order_id}/tracking"

    moving = client.patch(
        url,
        json={"tracking_number": first.tracking_number, "status": "in_transit"},
        headers=admin_headers,
    )
    one = client.patch(
        url,
        json={"tracking_number": first.tracking_number, "status": "delivered"},
        headers=admin_headers,
    )
    assert order_status(context.sessions, order_id) == "shipped"
    both = client.patch(
        url,
        json={"tracking_number": second.tracking_number, "status": "delivered"},
        headers=admin_headers,
    )

    assert (moving.status_code, one.status_code, both.status_code) == (200, 200, 200)
    assert both.get_json()["order_status"] == "delivered"
    assert order_status(context.sessions, order_id) == "delivered"
    with context.sessions() as session:
        kinds = [
            o.payload.get("type", o.payload.get("task"))
            for o in session.scalars(select(Outbox).where(Outbox.message_key == str(order_id)))
        ]
    assert kinds.count("order.delivered") == 1


@pytest.mark.parametrize(
    ("number", "status", "field"),
    [
        ("1Z8X4F2A0300000010", 422, "tracking_number"),  # wrong check digit
        ("not a number", 422, "tracking_number"),
        (ups_tracking_number("8X4F2A", "03", 9_999_999), 404, "tracking_number"),  # valid, not ours
    ],
)
def test_an_admin_update_with_a_bad_or_unknown_number_is_refused(
    client: FlaskClient,
    context: Context,
    admin_headers: dict[str, str],
    number: str,
    status: int,
    field: str,
) -> None:
    response = client.patch(
        f"/orders/{uuid.uuid4()}/tracking",
        json={"tracking_number": number, "status": "delivered"},
        headers=admin_headers,
    )

    assert response.status_code == status
    assert response.get_json()["errors"][0]["field"] == field


def test_tracking_updates_need_an_admin_token(client: FlaskClient) -> None:
    response = client.patch(f"/orders/{uuid.uuid4()}/tracking", json={})

    assert response.status_code == 401


def test_a_signed_carrier_event_delivers_and_a_replay_or_forgery_is_refused(
    client: FlaskClient, context: Context, settings: Settings
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)
    delivered = event(parcel.tracking_number)
    body, headers = signed(settings, delivered)

    accepted = client.post("/webhooks/carrier", data=body, headers=headers)
    replayed = client.post("/webhooks/carrier", data=body, headers=headers)
    forged = client.post(
        "/webhooks/carrier", data=body.replace(b"delivered", b"in_transit"), headers=headers
    )
    stale_body, stale_headers = signed(
        settings, event(parcel.tracking_number), at=time.time() - 3600
    )
    stale = client.post("/webhooks/carrier", data=stale_body, headers=stale_headers)
    unsigned = client.post(
        "/webhooks/carrier", data=body, headers={"Content-Type": "application/json"}
    )

    assert accepted.status_code == 200
    assert order_status(context.sessions, order_id) == "delivered"
    assert (replayed.status_code, replayed.get_json()["errors"][0]["field"]) == (409, "id")
    assert [r.status_code for r in (forged, stale, unsigned)] == [401, 401, 401]
    assert {r.get_json()["errors"][0]["field"] for r in (forged, stale, unsigned)} == {
        "Carrier-Signature"
    }


def test_an_admin_downloads_a_pdf_label_with_the_tracking_number(
    client: FlaskClient, context: Context, admin_headers: dict[str, str]
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    (parcel,) = shipments(context.sessions, shipped_order(client, context, [(lamp, 2)]))

    response = client.get(f"/admin/shipments/{parcel.id}/label.pdf", headers=admin_headers)
    missing = client.get("/admin/shipments/999999999/label.pdf", headers=admin_headers)

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    (page,) = PdfReader(io.BytesIO(response.data)).pages
    assert parcel.tracking_number in page.extract_text().splitlines()
    assert missing.status_code == 404


def delivered_messages(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[Outbox]:
    with sessions() as session:
        return [
            row
            for row in session.scalars(select(Outbox).where(Outbox.message_key == str(order_id)))
            if row.payload.get("type") == "order.delivered"
        ]


def test_two_parcels_of_one_order_delivered_at_the_same_moment_deliver_it_once(
    client: FlaskClient, context: Context
) -> None:
    bed, lamp = add_product(context.sessions), add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    add_warehouse(context.sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={lamp: 5})

    for _ in range(3):
        order_id = shipped_order(client, context, [(bed, 1), (lamp, 1)])
        numbers = [parcel.tracking_number for parcel in shipments(context.sessions, order_id)]
        # Each update waits for the other before it commits: unserialised, each then counts
        # the other's parcel as undelivered. Serialised, the second still waits for its lock,
        # so the first gives up waiting after a moment and commits.
        before_commit = threading.Barrier(2, timeout=1)

        def deliver(number: str, before_commit: threading.Barrier = before_commit) -> None:
            with context.sessions() as session, session.begin():
                apply_tracking(session, number, "delivered", at=utcnow(), source="carrier")
                with contextlib.suppress(threading.BrokenBarrierError):
                    before_commit.wait()

        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(deliver, numbers))

        assert order_status(context.sessions, order_id) == "delivered"
        assert len(delivered_messages(context.sessions, order_id)) == 1


def test_two_carrier_events_for_one_parcel_at_the_same_moment_are_both_taken(
    app: Flask, client: FlaskClient, context: Context, settings: Settings
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 50})
    answers = []

    for _ in range(5):
        order_id = shipped_order(client, context, [(lamp, 1)])
        (parcel,) = shipments(context.sessions, order_id)
        kinds = ["shipment.in_transit", "shipment.delivered"]
        requests = [signed(settings, event(parcel.tracking_number, kind)) for kind in kinds]
        start = threading.Barrier(2, timeout=10)

        def post(request: tuple[bytes, dict[str, str]], start: threading.Barrier = start) -> int:
            own_client = app.test_client()
            start.wait()
            return own_client.post(
                "/webhooks/carrier", data=request[0], headers=request[1]
            ).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers.append(list(pool.map(post, requests)))
        assert order_status(context.sessions, order_id) == "delivered"

    assert answers == [[200, 200]] * 5


NOT_A_MOMENT = [("2026-11-21T12:00:00", "timezone"), ("yesterday", "datetime")]


@pytest.mark.parametrize(("occurred_at", "reason"), NOT_A_MOMENT)
def test_a_carrier_event_without_a_time_zone_or_a_time_is_refused_naming_occurred_at(
    client: FlaskClient, context: Context, settings: Settings, occurred_at: str, reason: str
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)

    body, headers = signed(settings, {**event(parcel.tracking_number), "occurred_at": occurred_at})
    response = client.post("/webhooks/carrier", data=body, headers=headers)

    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "occurred_at"
    assert reason in error["reason"]
    assert order_status(context.sessions, order_id) == "shipped"


@pytest.mark.parametrize(("occurred_at", "reason"), NOT_A_MOMENT)
def test_an_admin_update_without_a_time_zone_or_a_time_is_refused_naming_occurred_at(
    client: FlaskClient,
    context: Context,
    admin_headers: dict[str, str],
    occurred_at: str,
    reason: str,
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)

    response = client.patch(
        f"/orders/{order_id}/tracking",
        json={
            "tracking_number": parcel.tracking_number,
            "status": "delivered",
            "occurred_at": occurred_at,
        },
        headers=admin_headers,
    )

    assert response.status_code == 422
    (error,) = response.get_json()["errors"]
    assert error["field"] == "occurred_at"
    assert reason in error["reason"]
    assert order_status(context.sessions, order_id) == "shipped"


def test_an_admin_records_when_a_parcel_arrived_in_any_time_zone(
    client: FlaskClient, context: Context, admin_headers: dict[str, str]
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)

    response = client.patch(
        f"/orders/{order_id}/tracking",
        json={
            "tracking_number": parcel.tracking_number,
            "status": "delivered",
            "occurred_at": "2026-11-21T09:30:00-05:00",
        },
        headers=admin_headers,
    )

    assert response.status_code == 200
    (delivered,) = shipments(context.sessions, order_id)
    assert delivered.delivered_at == datetime(2026, 11, 21, 14, 30, tzinfo=UTC)


def test_the_outbox_row_is_stamped_by_our_clock_and_the_message_by_the_carriers(
    client: FlaskClient, context: Context, settings: Settings
) -> None:
    lamp = add_product(context.sessions)
    add_warehouse(context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 5})
    order_id = shipped_order(client, context, [(lamp, 1)])
    (parcel,) = shipments(context.sessions, order_id)
    # A carrier whose clock runs a day fast: the relay must not wait a day for the row.
    carriers_clock = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    delivered = {**event(parcel.tracking_number), "occurred_at": carriers_clock.isoformat()}

    before = utcnow()
    body, headers = signed(settings, delivered)
    response = client.post("/webhooks/carrier", data=body, headers=headers)
    after = utcnow()

    assert response.status_code == 200
    (row,) = delivered_messages(context.sessions, order_id)
    assert before <= row.created_at <= after
    assert datetime.fromisoformat(row.payload["occurred_at"]) == carriers_clock
    (arrived,) = shipments(context.sessions, order_id)
    assert arrived.delivered_at == carriers_clock
