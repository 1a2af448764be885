"""Allocation on real PostgreSQL: nearest first, splits, backorders, pickup, and no oversell."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models.services.allocate import Allocated, AllocationResult, fill_backorders
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from models.tables.catalog import Stock
from models.tables.fulfilment import Allocation, AllocationReceipt
from models.tables.orders import Order
from settings import Settings
from tests.factories import (
    CHICAGO,
    NEWARK,
    SEATTLE,
    add_product,
    add_warehouse,
    order_body,
    stock_of,
)


def place(client: FlaskClient, lines: list[tuple[str, int]], **overrides: Any) -> uuid.UUID:
    response = client.post("/orders", json=order_body(lines, **overrides))
    assert response.status_code == 202, response.get_json()
    return uuid.UUID(response.get_json()["order_id"])


def status(sessions: sessionmaker[Session], order_id: uuid.UUID) -> str:
    with sessions() as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order.status


def allocations(sessions: sessionmaker[Session], order_id: uuid.UUID) -> set[tuple[int, str, int]]:
    with sessions() as session:
        rows = session.execute(
            select(Allocation.warehouse_id, Allocation.article_number, Allocation.quantity).where(
                Allocation.order_id == order_id
            )
        ).all()
    return {(w, a, q) for w, a, q in rows}


def latest_receipt(sessions: sessionmaker[Session], order_id: uuid.UUID) -> AllocationReceipt:
    with sessions() as session:
        receipt = session.scalars(
            select(AllocationReceipt)
            .where(AllocationReceipt.order_id == order_id)
            .order_by(AllocationReceipt.id.desc())
        ).first()
        assert receipt is not None
        return receipt


def restock(sessions: sessionmaker[Session], warehouse_id: int, article: str, on_hand: int) -> None:
    with sessions() as session, session.begin():
        session.execute(
            update(Stock)
            .where(Stock.warehouse_id == warehouse_id, Stock.article_number == article)
            .values(on_hand=on_hand)
        )


def test_an_order_no_warehouse_holds_whole_is_split_each_line_from_the_nearest_that_has_it(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed, lamp = add_product(sessions), add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    chicago = add_warehouse(
        sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 5, lamp: 5}
    )
    seattle = add_warehouse(sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={lamp: 9})
    order_id = place(client, [(bed, 2), (lamp, 1)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    # Chicago is further than Newark but holds both lines: one warehouse beats a split.
    assert allocations(sessions, order_id) == {(chicago, bed, 2), (chicago, lamp, 1)}
    assert stock_of(sessions, newark, bed) == (5, 0)
    assert stock_of(sessions, seattle, lamp) == (9, 0)


def test_a_split_takes_each_line_from_the_nearest_warehouse_that_has_it(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed, lamp = add_product(sessions), add_product(sessions)
    newark = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5, lamp: 0}
    )
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={lamp: 5})
    add_warehouse(sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={lamp: 9})
    order_id = place(client, [(bed, 2), (lamp, 3)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    assert allocations(sessions, order_id) == {(newark, bed, 2), (chicago, lamp, 3)}
    receipt = latest_receipt(sessions, order_id)
    assert receipt.outcome == "split"
    assert "split over 2 warehouses" in receipt.reason
    chosen = {c["warehouse"] for c in receipt.candidates if c["chosen"]}
    assert len(chosen) == 2
    assert all("available" in c for c in receipt.candidates)


def test_a_single_warehouse_holding_the_line_beats_a_nearer_split(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 2})
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 2})
    seattle = add_warehouse(sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={bed: 5})
    order_id = place(client, [(bed, 3)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    # Seattle alone holds the whole line, so it wins over a split of Newark and Chicago.
    assert allocations(sessions, order_id) == {(seattle, bed, 3)}
    assert stock_of(sessions, newark, bed) == (2, 0)
    assert stock_of(sessions, chicago, bed) == (2, 0)


def test_a_short_order_is_rejected_under_the_reject_policy_and_reserves_nothing(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 2})
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 1})
    order_id = place(client, [(bed, 4)])

    assert allocate(order_id, shortage_policy="reject").outcome is Allocated.REJECTED

    assert status(sessions, order_id) == "rejected"
    assert stock_of(sessions, newark, bed) == (2, 0)
    assert stock_of(sessions, chicago, bed) == (1, 0)
    assert f"{bed} short by 1" in latest_receipt(sessions, order_id).reason


def test_backorders_are_held_and_filled_in_arrival_order_when_stock_arrives(
    client: FlaskClient,
    sessions: sessionmaker[Session],
    directory: WarehouseDirectory,
    settings: Settings,
    allocate: Callable[..., AllocationResult],
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 0})
    first, second = place(client, [(bed, 3)]), place(client, [(bed, 2)])
    backorder = settings.model_copy(update={"shortage_policy": "backorder"})
    assert allocate(first, shortage_policy="backorder").outcome is Allocated.BACKORDERED
    assert allocate(second, shortage_policy="backorder").outcome is Allocated.BACKORDERED

    restock(sessions, newark, bed, 3)
    filled = dict(fill_backorders(Work(sessions), directory, backorder))

    assert filled[first].outcome is Allocated.ALLOCATED
    assert filled[second].outcome is Allocated.STILL_SHORT
    assert (status(sessions, first), status(sessions, second)) == ("allocated", "backordered")

    restock(sessions, newark, bed, 5)
    filled = dict(fill_backorders(Work(sessions), directory, backorder))

    assert filled[second].outcome is Allocated.ALLOCATED
    assert stock_of(sessions, newark, bed) == (5, 5)


def test_a_self_service_order_goes_to_the_nearest_warehouse_that_allows_pickup(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed = add_product(sessions)
    add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5}, self_service=False
    )
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 5})
    order_id = place(client, [(bed, 1)], delivery_method="self_service")

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    assert allocations(sessions, order_id) == {(chicago, bed, 1)}


def run_at_once(
    work: Callable[[uuid.UUID], AllocationResult], orders: list[uuid.UUID]
) -> list[Allocated]:
    outcomes: list[Allocated] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(orders))

    def one(order_id: uuid.UUID) -> None:
        barrier.wait()
        try:
            outcome = work(order_id).outcome
        except BaseException as exc:  # collected so the test names any crash
            with lock:
                errors.append(exc)
            return
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=one, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return outcomes


def test_fifty_buyers_for_twenty_units_get_exactly_twenty(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 12})
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 8})
    orders = [place(client, [(bed, 1)]) for _ in range(50)]

    outcomes = run_at_once(allocate, orders)

    assert outcomes.count(Allocated.ALLOCATED) == 20
    assert outcomes.count(Allocated.REJECTED) == 30
    assert stock_of(sessions, newark, bed) == (12, 12)
    assert stock_of(sessions, chicago, bed) == (8, 8)


def test_orders_locking_the_same_rows_in_opposite_line_order_never_deadlock(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed, lamp = add_product(sessions), add_product(sessions)
    newark = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 40, lamp: 40}
    )
    orders = [
        place(client, [(bed, 1), (lamp, 1)] if i % 2 else [(lamp, 1), (bed, 1)]) for i in range(40)
    ]

    outcomes = run_at_once(allocate, orders)

    assert outcomes == [Allocated.ALLOCATED] * 40
    assert stock_of(sessions, newark, bed) == (40, 40)
    assert stock_of(sessions, newark, lamp) == (40, 40)


def test_a_line_no_warehouse_holds_whole_is_taken_nearest_first(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    bed = add_product(sessions)
    newark = add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 2})
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={bed: 2})
    seattle = add_warehouse(sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={bed: 2})
    order_id = place(client, [(bed, 3)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    assert allocations(sessions, order_id) == {(newark, bed, 2), (chicago, bed, 1)}
    assert stock_of(sessions, seattle, bed) == (2, 0)
