"""The return label: booked with the carrier once a return is opened, then mailed.

The carrier is asked with no transaction open (a network call); the label is then recorded on
the return only if it has none yet, with the mail that gives the customer the RMA number, the
label's tracking number and what to do. A carrier that does not serve the route back will not
serve it on the next try either: the step ends with one notice to operations, who send the
customer a label by other means.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import select, update

from models.domain.mail import instance_kind
from models.ports import Carrier, Label, RouteNotServed
from models.store.follow_ups import finish_current, mail
from models.store.orders import record_event
from models.store.unit_of_work import Work
from models.tables.catalog import Warehouse
from models.tables.orders import Order
from models.tables.returns import OrderReturn

log = logging.getLogger(__name__)


class Labelled(StrEnum):
    """What the return label step did."""

    LABELLED = "labelled"
    SKIPPED = "skipped"
    FAILED = "failed"


def _route(work: Work, return_id: int) -> tuple[str, str, str] | None:
    """Customer's country, warehouse code and country of an open return still without a
    label; None if there is nothing to book."""
    with work.single_statements() as connection:
        row = connection.execute(
            select(Order.ship_country, Warehouse.code, Warehouse.country)
            .select_from(OrderReturn)
            .join(Order, Order.id == OrderReturn.order_id)
            .join(Warehouse, Warehouse.id == OrderReturn.warehouse_id)
            .where(
                OrderReturn.id == return_id,
                OrderReturn.status == "open",
                OrderReturn.tracking_number.is_(None),
            )
        ).first()
    return None if row is None else (row[0], row[1], row[2])


def _record(work: Work, order_id: uuid.UUID, return_id: int, label: Label) -> Labelled:
    with work() as session:
        recorded = session.execute(
            update(OrderReturn)
            .where(OrderReturn.id == return_id, OrderReturn.tracking_number.is_(None))
            .values(
                carrier=label.carrier,
                tracking_number=label.tracking_number,
                tracking_url=label.tracking_url,
            )
            .returning(OrderReturn.rma_number)
        ).scalar()
        if recorded is not None:
            detail = {
                "return_id": return_id,
                "rma_number": recorded,
                "carrier": label.carrier,
                "tracking_number": label.tracking_number,
            }
            record_event(session, order_id, "return_label_created", detail=detail)
            mail(session, order_id, instance_kind("return_opened", return_id))
        finish_current(session)
    return Labelled.LABELLED if recorded is not None else Labelled.SKIPPED


def _refused(work: Work, order_id: uuid.UUID, return_id: int, error: RouteNotServed) -> Labelled:
    with work() as session:
        detail = {"return_id": return_id, "error": str(error)[:300]}
        record_event(session, order_id, "return_label_failed", detail=detail)
        mail(session, order_id, instance_kind("return_label_failed", return_id))
        finish_current(session)
    log.error("return label failed for good: %s", error, extra={"order_id": str(order_id)})
    return Labelled.FAILED


def label_return(
    work: Work, carriers: Callable[..., Carrier], order_id: uuid.UUID, return_id: int
) -> Labelled:
    """Book the return's label from the customer back to its warehouse, record it, mail it."""
    route = _route(work, return_id)
    if route is None:
        with work() as session:
            finish_current(session)
        return Labelled.SKIPPED
    customer_country, warehouse_code, warehouse_country = route
    try:
        carrier = carriers(origin_country=customer_country, destination_country=warehouse_country)
        label = carrier.create_return_label(order_id=str(order_id), warehouse_code=warehouse_code)
    except RouteNotServed as error:  # retrying will not change the route
        return _refused(work, order_id, return_id, error)
    return _record(work, order_id, return_id, label)
