"""Signed carrier webhooks: deliveries taken, replays and forgeries refused, the carrier's times."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bootstrap import Context
from intake.signatures import sign
from models.domain.clock import utcnow
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse
from tests.integration.tracking_support import (
    NOT_A_MOMENT,
    delivered_messages,
    order_status,
    shipments,
    shipped_order,
)


def signed(
    settings: Settings, event: dict[str, Any], at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The event as a body, with headers signing it with the webhook secret at `at`."""
    body = json.dumps(event).encode()
    header = sign(settings.carrier_webhook_secret.get_secret_value(), body, int(at or time.time()))
    return body, {"Carrier-Signature": header, "Content-Type": "application/json"}


def event(number: str, kind: str = "shipment.delivered") -> dict[str, Any]:
    """A carrier event about the parcel with this tracking number."""
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": kind,
        "tracking_number": number,
        "occurred_at": "2026-11-21T12:00:00+00:00",
    }


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
