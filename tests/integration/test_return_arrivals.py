"""What may be returned depends on what arrived: the units of a delivered parcel while another
is on its way, and a pickup order once it is collected."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.clock import utcnow
from models.services.allocate import allocate_order
from models.services.charge import Charged, charge_order
from models.services.pickup import collect_order
from models.services.place import order_token
from models.services.ship import Shipped, ship_order
from models.services.track import apply_tracking
from tests.factories import CHICAGO, NEWARK, add_product, add_warehouse, order_body
from tests.integration.returns_support import Delivered, open_return, receive, shelf
from tests.integration.tracking_support import shipments, shipped_order


def _headers(ctx: Context, order_id: uuid.UUID) -> dict[str, str]:
    token = order_token(ctx.settings.order_token_secret.get_secret_value(), order_id)
    return {"Authorization": f"Bearer {token}"}


def test_the_units_of_a_delivered_parcel_go_back_while_the_other_parcel_travels(
    client: FlaskClient, context: Context
) -> None:
    lamp, rug = add_product(context.sessions), add_product(context.sessions)
    newark = add_warehouse(
        context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={lamp: 3}
    )
    add_warehouse(context.sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={rug: 3})
    order_id = shipped_order(client, context, [(lamp, 1), (rug, 2)])
    parcels = {p.warehouse_id: p for p in shipments(context.sessions, order_id)}
    with context.work() as session:
        number = parcels[newark].tracking_number
        apply_tracking(session, number, "delivered", at=utcnow(), source="test")
    order = Delivered(order_id, lamp, newark, _headers(context, order_id))

    rug_back = open_return(client, order, [(2, 1)])
    lamp_back = open_return(client, order, [(1, 1)])

    assert rug_back.status_code == 422
    assert rug_back.get_json()["errors"] == [
        {
            "field": "lines[0].quantity",
            "reason": "no unit of line 2 can be returned: none has arrived, or every one that "
            "did is in a return already or arrived before the return window",
        }
    ]
    assert lamp_back.status_code == 201


def test_a_collected_pickup_order_may_be_returned_and_one_waiting_may_not(
    client: FlaskClient, context: Context
) -> None:
    bed = add_product(context.sessions)
    warehouse = add_warehouse(
        context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 4}
    )
    response = client.post("/orders", json=order_body([(bed, 2)], delivery_method="self_service"))
    order_id = uuid.UUID(response.get_json()["order_id"])
    allocate_order(context.work, context.directory, context.settings, order_id)
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID
    assert ship_order(context.work, context.carriers, order_id) is Shipped.READY_FOR_PICKUP
    order = Delivered(order_id, bed, warehouse, _headers(context, order_id))

    waiting = open_return(client, order, [(1, 1)])
    with context.work() as session:
        assert collect_order(session, order_id, actor="test")
    before = shelf(context, order)
    collected = open_return(client, order, [(1, 2)])
    receive(client, context, order, collected.get_json()["rma_number"])

    assert waiting.status_code == 409
    assert waiting.get_json()["errors"][0]["field"] == "order"
    assert collected.status_code == 201
    assert shelf(context, order)[0] == before[0] + 2
