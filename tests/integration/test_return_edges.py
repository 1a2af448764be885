"""Returns at their edges: the carrier's webhook receiving one, a route no carrier serves back,
and hostile requests, each a 4xx problem document naming the field and why."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from bootstrap import Context, install_context
from models.tables.orders import OrderEvent
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox, message_text
from tests.integration.returns_support import delivered, open_return, receive, shelf, staff
from tests.integration.test_carrier_webhooks import event, signed
from tests.integration.test_hostile_corpus import BODIES, JSON, assert_4xx
from workers.adapters.fakes import FakeCarrier


def test_the_carrier_delivering_a_return_label_receives_the_return_once(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=2)
    before = shelf(context, order)
    rma = open_return(client, order, [(1, 2)]).get_json()["rma_number"]
    run_follow_ups(context, order.order_id)
    listed = client.get(f"/orders/{order.order_id}/returns", headers=order.headers).get_json()
    number = listed["returns"][0]["label"]["tracking_number"]

    moving = client.post("/webhooks/carrier", **_signed(context, number, "shipment.in_transit"))
    arrived = client.post("/webhooks/carrier", **_signed(context, number, "shipment.delivered"))
    again = client.post("/webhooks/carrier", **_signed(context, number, "shipment.delivered"))

    assert moving.status_code == arrived.status_code == again.status_code == 200
    assert (moving.get_json()["changed"], arrived.get_json()["changed"]) == (False, True)
    assert again.get_json()["changed"] is False
    assert arrived.get_json()["order_id"] == str(order.order_id)
    (shown,) = client.get(f"/orders/{order.order_id}/returns", headers=order.headers).get_json()[
        "returns"
    ]
    assert (shown["rma_number"], shown["status"], shown["refunded"]) == (rma, "received", 4000)
    assert shelf(context, order)[0] == before[0] + 2


def _signed(context: Context, number: str, kind: str) -> dict[str, Any]:
    body, headers = signed(context.settings, event(number, kind))
    return {"data": body, "headers": headers}


def test_a_return_no_carrier_serves_back_ends_with_one_notice_to_operations(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = delivered(client, context, units=1)
    open_return(client, order, [(1, 1)])
    install_context(
        dataclasses.replace(context, carriers=FakeCarrier(closed=frozenset({("US", "US")})))
    )
    try:
        run_follow_ups(context, order.order_id)
        run_follow_ups(context, order.order_id)
    finally:
        install_context(context)

    texts = [message_text(m) for m in mailbox.for_order(str(order.order_id))]
    notices = [t for t in texts if t.startswith("A return of order")]
    assert len(notices) == 1
    assert "no carrier from US to US" in notices[0]
    assert not [t for t in texts if t.startswith("How to send back")]
    with context.sessions() as session:
        kinds = session.scalars(
            select(OrderEvent.kind).where(OrderEvent.order_id == order.order_id)
        ).all()
    assert kinds.count("return_label_failed") == 1


LONG_NOTE = "x" * 501
OPEN_FAULTS: list[tuple[Any, str]] = [
    ({"lines": [], "reason": "other"}, "lines"),
    ({"lines": [{"line_no": 1, "quantity": 0}], "reason": "other"}, "lines[0].quantity"),
    ({"lines": [{"line_no": 1, "quantity": -1}], "reason": "other"}, "lines[0].quantity"),
    ({"lines": [{"line_no": 1, "quantity": 10**30}], "reason": "other"}, "lines[0].quantity"),
    ({"lines": [{"line_no": 1, "quantity": 1.5}], "reason": "other"}, "lines[0].quantity"),
    ({"lines": [{"line_no": 0, "quantity": 1}], "reason": "other"}, "lines[0].line_no"),
    ({"lines": [{"line_no": "1", "quantity": 1}], "reason": "other"}, "lines[0].line_no"),
    ({"lines": [{"line_no": 9, "quantity": 1}], "reason": "other"}, "lines[0].line_no"),
    ({"lines": [{"line_no": 1, "quantity": 4}], "reason": "other"}, "lines[0].quantity"),
    ({"lines": [{"line_no": 1, "quantity": 1}] * 2, "reason": "other"}, "lines[1].line_no"),
    ({"lines": [{"line_no": 1, "quantity": 1}], "reason": "bored"}, "reason"),
    ({"lines": [{"line_no": 1, "quantity": 1}]}, "reason"),
    ({"lines": [{"line_no": 1, "quantity": 1}], "reason": "other", "note": LONG_NOTE}, "note"),
    ({"lines": [{"line_no": 1, "quantity": 1}], "reason": "other", "note": "a\u0000b"}, "note"),
    ({"lines": [{"line_no": 1, "quantity": 1}], "reason": "other", "refund": 10**6}, "refund"),
    ({"lines": [{"line_no": 1, "quantity": 1, "price": 0}], "reason": "other"}, "lines[0].price"),
    ({"lines": [{"line_no": n, "quantity": 1} for n in range(1, 103)], "reason": "x"}, "lines"),
]
RECEIVE_FAULTS: list[tuple[Any, str]] = [
    ({"lines": [{"line_no": 1, "received": 3, "accepted": 0}]}, "lines[0].received"),
    ({"lines": [{"line_no": 1, "received": 1, "accepted": 2}]}, "lines[0].accepted"),
    ({"lines": [{"line_no": 1, "received": -1, "accepted": 0}]}, "lines[0].received"),
    ({"lines": [{"line_no": 2, "received": 1, "accepted": 1}]}, "lines[0].line_no"),
    ({"lines": [{"line_no": 1, "received": 1, "accepted": 1}] * 2}, "lines[1].line_no"),
    ({"lines": [{"line_no": 1, "received": 1}]}, "lines[0].accepted"),
    ({"lines": "all"}, "lines"),
    ({"everything": True}, "everything"),
]


def _fields(response: Any) -> set[str]:
    return {error["field"] for error in response.get_json().get("errors", [])}


def test_every_bad_return_request_is_a_4xx_naming_its_field(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)
    rma = open_return(client, order, [(1, 2)]).get_json()["rma_number"]
    path = f"/orders/{order.order_id}/returns"

    for body, field in OPEN_FAULTS:
        response = client.post(path, json=body, headers=order.headers)
        assert_4xx(response, body)
        assert field in _fields(response), (body, response.get_json())
    for body, field in RECEIVE_FAULTS:
        response = client.post(f"{path}/{rma}/receive", json=body, headers=staff(context))
        assert_4xx(response, body)
        assert field in _fields(response), (body, response.get_json())
    assert receive(client, context, order, "RMA-00000000").status_code == 404
    assert receive(client, context, order, "x" * 5000).status_code == 404
    assert client.post(f"{path}/{rma}/receive", json={}, headers=order.headers).status_code == 403
    assert receive(client, context, order, rma.lower()).get_json()["status"] == "received"


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_hostile_bodies_on_the_return_routes_are_4xx(
    client: FlaskClient, context: Context, body: bytes
) -> None:
    order = delivered(client, context, units=1)
    rma = open_return(client, order, [(1, 1)]).get_json()["rma_number"]
    for path, headers in [
        (f"/orders/{order.order_id}/returns", order.headers),
        (f"/orders/{order.order_id}/returns/{rma}/receive", staff(context)),
    ]:
        response = client.post(path, data=body, headers={**JSON, **headers})
        if response.status_code < 400:
            # Only an empty receipt body is a request: everything came back.
            assert (path.endswith("receive"), body) == (True, b""), body[:40]
            continue
        assert_4xx(response, body[:40])
