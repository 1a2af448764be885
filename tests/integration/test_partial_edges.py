"""Partial fulfilment at its edges: the order document, and orders that do not ship in parts
(nothing in stock, everything in stock, the default policy)."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from intake.api_models import OrderView
from models.domain.clock import utcnow
from models.domain.lifecycle import OrderStatus
from models.domain.links import access_for
from models.services.allocate import Allocated, allocate_order
from models.services.cancel_lines import cancel_lines
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from models.tables.fulfilment import Notification
from models.tables.orders import OrderLine
from settings import Settings
from tests.factories import NEWARK, add_product, add_warehouse, order_body
from tests.follow_up_support import run_follow_ups
from tests.integration.partial_support import (
    BED,
    LAMP,
    allocate,
    order_of,
    part_one_shipped,
    parts_of,
    payments,
    place,
    restock,
)


def test_the_order_document_shows_each_part_and_what_still_follows(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0})
    response = client.post("/orders", json=order_body([(bed, 2), (lamp, 1)]))
    order_id, token = uuid.UUID(response.get_json()["order_id"]), response.get_json()["order_token"]
    assert allocate(context, order_id) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)

    document = client.get(f"/orders/{order_id}", headers={"Authorization": f"Bearer {token}"})
    assert document.status_code == 200
    view = OrderView.model_validate(document.get_json())
    assert view.status == "partially_shipped"
    (part,) = view.parts
    assert [(line.article_number, line.quantity, line.state) for line in part.lines] == [
        (bed, 2, "shipped")
    ]
    assert part.payment is not None
    assert (part.payment.status, part.payment.amount) == (
        "succeeded",
        2 * BED + view.costs.delivery,
    )
    assert [s.tracking_number for s in part.shipments] == [
        s.tracking_number for s in view.shipments
    ]
    assert [(w.article_number, w.quantity) for w in view.waiting] == [(lamp, 1)]
    # Its shipped units are on their way: it cannot be cancelled.
    refused = client.post(
        f"/orders/{order_id}/cancel", headers={"Authorization": f"Bearer {token}"}, json={}
    )
    assert refused.status_code == 409


def test_an_order_with_nothing_in_stock_is_backordered_whole_and_ships_in_parts_as_it_arrives(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    newark = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 0, lamp: 0}
    )
    order_id = place(client, [(bed, 1), (lamp, 1)])

    assert allocate(context, order_id) is Allocated.BACKORDERED
    assert order_of(sessions, order_id).status == "backordered"
    restock(sessions, newark, bed, 1)  # the bed arrives, the lamp does not
    assert allocate(context, order_id, OrderStatus.BACKORDERED) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)

    assert order_of(sessions, order_id).status == "partially_shipped"
    assert parts_of(sessions, order_id) == [(bed, 1)]
    assert "back_in_stock" not in [kind for _, kind in mails_of(sessions, order_id)]


def test_an_order_in_stock_whole_ships_whole_under_ship_available(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    bed = add_product(sessions, price=BED)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    order_id = place(client, [(bed, 2)])

    assert allocate(context, order_id) is Allocated.ALLOCATED
    run_follow_ups(context, order_id)
    order = order_of(sessions, order_id)
    assert order.status == "shipped"
    assert [(p, s, a) for p, s, a, _ in payments(sessions, order_id)] == [
        (1, "succeeded", order.total)
    ]


def test_the_default_policy_still_rejects_an_order_it_cannot_cover_whole(
    client: FlaskClient, context: Context, settings: Settings
) -> None:
    sessions = context.work.sessions
    bed, lamp = add_product(sessions, price=BED), add_product(sessions, price=LAMP)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0})
    order_id = place(client, [(bed, 2), (lamp, 1)])
    directory = WarehouseDirectory(refresh=0)

    result = allocate_order(Work(sessions), directory, settings, order_id)
    assert (settings.shortage_policy, result.outcome) == ("reject", Allocated.REJECTED)


def test_the_order_page_says_part_of_it_is_on_its_way_and_offers_no_cancel(
    client: FlaskClient, context: Context
) -> None:
    order_id, _, _, _ = part_one_shipped(client, context)
    secret = context.settings.order_token_secret.get_secret_value()
    path = f"/orders/{order_id}?access={access_for(secret, order_id, utcnow(), 1)}"

    page = client.get(path, headers={"Accept": "text/html"})

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Partly on its way: the rest follows when it is in stock" in html
    assert "Part of it is out of stock: it follows when it arrives" in html
    assert "Cancel this order" not in html


def mails_of(sessions: sessionmaker[Session], order_id: uuid.UUID) -> list[tuple[str, str]]:
    with sessions() as session:
        rows = session.execute(
            select(Notification.status, Notification.kind).where(Notification.order_id == order_id)
        ).all()
    return [(status, kind) for status, kind in rows]


def test_cancelling_the_units_still_to_follow_leaves_the_order_shipped_for_what_did_ship(
    client: FlaskClient, context: Context
) -> None:
    sessions = context.work.sessions
    order_id, _, _, lamp = part_one_shipped(client, context)
    with sessions() as session:
        lamp_line = session.scalars(
            select(OrderLine.line_no).where(
                OrderLine.order_id == order_id, OrderLine.article_number == lamp
            )
        ).one()

    with context.work() as session:
        cancel_lines(
            session,
            order_id,
            {lamp_line: 1},
            reason="no longer needed",
            actor="guest",
            now=utcnow(),
        )

    assert order_of(sessions, order_id).status == "shipped"
    assert [(p, s) for p, s, _, _ in payments(sessions, order_id)] == [(1, "succeeded")]
