"""Shipments on their way: carriers per route, labels, admin updates, parcels delivered at once."""

from __future__ import annotations

import contextlib
import io
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from models.domain.clock import utcnow
from models.domain.tracking import identify, ups_tracking_number
from models.services.import_geodata import SWEDEN, import_file
from models.services.track import apply_tracking
from models.tables.outbox import Outbox
from tests.factories import CHICAGO, MALMO, NEWARK, add_product, add_warehouse
from tests.integration.tracking_support import (
    NOT_A_MOMENT,
    delivered_messages,
    order_status,
    shipments,
    shipped_order,
)

pytest_plugins = ["tests.admin_fixtures"]

SWEDISH_ADDRESS = {
    "line1": "Storgatan 1",
    "city": "Malmö",
    "postal_code": "211 19",
    "country": "SE",
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
