"""A line cancelled while the ship step books its labels: the ship step reads the parcels with
nothing locked, asks the carriers, then records. A cancel in between that empties one
warehouse's parcel must not leave a shipment with nothing in it: only the warehouses whose
units are taken off the shelf get a shipment."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from bootstrap import Context
from models.domain.clock import utcnow
from models.services import ship
from models.services.allocate import Allocated, allocate_order
from models.services.cancel_lines import cancel_lines
from models.services.charge import Charged, charge_order
from models.tables.fulfilment import Shipment
from tests.factories import CHICAGO, NEWARK, add_product, add_warehouse, order_body


def test_a_parcel_emptied_by_a_cancel_while_its_label_was_booked_is_not_shipped(
    app: Flask, context: Context
) -> None:
    chair, lamp = add_product(context.sessions), add_product(context.sessions)
    newark = add_warehouse(
        context.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={chair: 5, lamp: 0}
    )
    add_warehouse(
        context.sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={chair: 0, lamp: 5}
    )
    answer = app.test_client().post("/orders", json=order_body([(chair, 1), (lamp, 1)]))
    order_id = uuid.UUID(answer.get_json()["order_id"])
    allocated = allocate_order(context.work, context.directory, context.settings, order_id)
    assert allocated.outcome is Allocated.ALLOCATED
    assert charge_order(context.work, context.gateway, order_id) is Charged.PAID

    parcels = ship._book(context.work, context.carriers, order_id)
    assert parcels is not None
    assert len(parcels) == 2  # a label per warehouse, booked with nothing locked
    with context.work() as session:  # meanwhile the customer cancels the lamp
        cancel_lines(session, order_id, {2: 1}, reason="not needed", actor="guest", now=utcnow())
    assert ship._record(context.work, order_id, parcels) is ship.Shipped.SHIPPED

    with context.sessions() as session:
        shipped = session.scalars(
            select(Shipment.warehouse_id).where(Shipment.order_id == order_id)
        ).all()
    assert shipped == [newark]
