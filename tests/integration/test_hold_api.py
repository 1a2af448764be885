"""Holds through the API and the ops CLI: staff hold and release, the list of held orders, and
hostile or misplaced requests answered with a problem document."""

from __future__ import annotations

import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bootstrap import Context
from intake.auth import CUSTOMER, STAFF_READ
from models.services.charge import Charged, charge_order
from tests.factories import stock_of
from tests.follow_up_support import run_follow_ups
from tests.integration.hold_support import allocated, events, order_of, staff, stocked
from tests.integration.test_ops_orders import ops


def test_staff_hold_an_order_once_list_it_and_release_it_once(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    order_id = allocated(client, context, product)
    headers = staff(context)
    body = {"reason": "other", "note": "customer asked us to call first"}

    first = client.post(f"/orders/{order_id}/hold", json=body, headers=headers)
    again = client.post(f"/orders/{order_id}/hold", json=body, headers=headers)
    listed = client.get("/orders?status=on_hold&limit=100", headers=headers).get_json()
    released = client.post(f"/orders/{order_id}/hold/release", headers=headers)
    released_again = client.post(f"/orders/{order_id}/hold/release", headers=headers)

    assert (first.status_code, again.status_code) == (202, 200)
    assert first.get_json() == {
        "order_id": str(order_id),
        "status": "on_hold",
        "changed": True,
        "hold_reason": "other",
    }
    assert str(order_id) in {o["order_id"] for o in listed["orders"]}
    assert (released.status_code, released_again.status_code) == (202, 200)
    assert released.get_json()["status"] == "allocated"
    assert released_again.get_json()["changed"] is False
    (held,) = events(context, order_id, "held")
    assert held["note"] == "customer asked us to call first"
    # The charge held back by the hold runs now, once: the order goes on to be shipped.
    run_follow_ups(context, order_id)
    assert order_of(context, order_id).status == "shipped"


def test_an_order_past_allocated_cannot_be_held_and_one_never_held_not_released(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    paid = allocated(client, context, product)
    assert charge_order(context.work, context.gateway, paid) is Charged.PAID
    never_held = allocated(client, context, product)
    headers = staff(context)

    held = client.post(f"/orders/{paid}/hold", json={}, headers=headers)
    released = client.post(f"/orders/{never_held}/hold/release", headers=headers)

    assert held.status_code == 409
    assert held.get_json()["current_status"] == "paid"
    assert released.status_code == 409
    assert released.get_json()["current_status"] == "allocated"
    assert order_of(context, paid).status == "paid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "because"}, "reason"),
        ({"reason": 7}, "reason"),
        ({"note": "x" * 301}, "note"),
        ({"note": ""}, "note"),
        ({"note": "a\u0000b"}, "note"),
        ({"reason": "other", "by": "someone"}, "by"),
    ],
)
def test_a_hostile_hold_body_is_a_422_naming_the_field(
    client: FlaskClient, context: Context, body: dict[str, object], field: str
) -> None:
    product, _ = stocked(context)
    order_id = allocated(client, context, product)

    refused = client.post(f"/orders/{order_id}/hold", json=body, headers=staff(context))

    assert refused.status_code == 422, refused.get_json()
    assert refused.content_type == "application/problem+json"
    assert field in [error["field"] for error in refused.get_json()["errors"]]
    assert order_of(context, order_id).status == "allocated"


def test_who_may_not_hold_or_release_is_refused_before_the_order_is_read(
    client: FlaskClient, context: Context
) -> None:
    product, _ = stocked(context)
    order_id = allocated(client, context, product)
    reader, shopper = staff(context, STAFF_READ), staff(context, CUSTOMER)

    answers = [
        client.post(f"/orders/{order_id}/hold", json={}).status_code,
        client.post(f"/orders/{order_id}/hold", json={}, headers=reader).status_code,
        client.post(f"/orders/{order_id}/hold", json={}, headers=shopper).status_code,
        client.post(f"/orders/{order_id}/hold/release", headers=reader).status_code,
        client.post("/orders/not-a-uuid/hold", json={}, headers=staff(context)).status_code,
        client.post(f"/orders/{uuid.uuid4()}/hold/release", headers=staff(context)).status_code,
        client.post(
            f"/orders/{order_id}/hold", data="reason=other", headers=staff(context)
        ).status_code,
    ]

    assert answers == [401, 403, 403, 403, 404, 404, 415]
    assert order_of(context, order_id).status == "allocated"


def test_ops_lists_held_orders_releases_one_and_cancels_another(
    app: Flask, client: FlaskClient, context: Context
) -> None:
    product, warehouse = stocked(context)
    kept, dropped = allocated(client, context, product), allocated(client, context, product, 2)
    for order_id in (kept, dropped):
        answer = client.post(
            f"/orders/{order_id}/hold", json={"reason": "too_many_orders"}, headers=staff(context)
        )
        assert answer.status_code == 202

    listed_code, listed = ops(app, "holds")
    assert listed_code == 0, listed
    released_code, released = ops(app, "release", str(kept))
    again_code, again = ops(app, "release", str(kept))
    cancelled_code, cancelled = ops(app, "cancel", str(dropped), "--reason", "fraud confirmed")
    missing_code, missing = ops(app, "release", "nope")

    assert listed_code == 0
    assert str(kept) in listed
    assert str(dropped) in listed
    assert "too_many_orders" in listed
    assert (released_code, again_code, cancelled_code) == (0, 0, 0)
    assert "released (too_many_orders), charge asked for" in released
    assert "released before" in again
    assert f"order {dropped}: cancelled, 2 units released" in cancelled
    assert (missing_code, missing) == (1, "Error: no order nope")
    assert order_of(context, kept).status == "allocated"
    assert order_of(context, dropped).status == "cancelled"
    assert stock_of(context.work.sessions, warehouse, product) == (5, 1)
