"""Splits on real PostgreSQL: fewest warehouses, home before abroad, the rule on the receipt."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from models.services.allocate import Allocated, AllocationResult
from tests.factories import CHICAGO, NEWARK, SEATTLE, add_product, add_warehouse, stock_of
from tests.integration.test_allocation import allocations, latest_receipt, place

TORONTO = (43.6532, -79.3832)  # about 550 km from New York, across the border
PHILADELPHIA = (39.9526, -75.1652)


def test_a_split_uses_the_two_warehouses_that_hold_it_not_three_nearer_ones(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    a, b, c, d, e, f = (add_product(sessions) for _ in range(6))
    # Newark holds four of the six lines, so a greedy choice starts there and needs two more.
    newark = add_warehouse(
        sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={a: 1, b: 1, d: 1, e: 1}
    )
    philadelphia = add_warehouse(
        sessions, latitude=PHILADELPHIA[0], longitude=PHILADELPHIA[1], stock={c: 1, f: 0}
    )
    chicago = add_warehouse(
        sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={a: 1, b: 1, c: 1}
    )
    seattle = add_warehouse(
        sessions, latitude=SEATTLE[0], longitude=SEATTLE[1], stock={d: 1, e: 1, f: 1}
    )
    order_id = place(client, [(n, 1) for n in (a, b, c, d, e, f)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    assert allocations(sessions, order_id) == {(chicago, n, 1) for n in (a, b, c)} | {
        (seattle, n, 1) for n in (d, e, f)
    }
    receipt = latest_receipt(sessions, order_id)
    assert (receipt.outcome, receipt.rule) == ("split", "fewest_exact")
    assert "split over 2 warehouses" in receipt.reason
    assert stock_of(sessions, newark, a) == (1, 0)
    assert stock_of(sessions, philadelphia, c) == (1, 0)


def test_an_order_ships_from_home_before_a_nearer_warehouse_abroad(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    lamp = add_product(sessions)
    toronto = add_warehouse(
        sessions, latitude=TORONTO[0], longitude=TORONTO[1], stock={lamp: 5}, country="CA"
    )
    chicago = add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={lamp: 5})
    order_id = place(client, [(lamp, 2)])

    assert allocate(order_id).outcome is Allocated.ALLOCATED

    assert allocations(sessions, order_id) == {(chicago, lamp, 2)}
    receipt = latest_receipt(sessions, order_id)
    assert (receipt.outcome, receipt.rule) == ("single", "whole")
    abroad = {c["warehouse"]: c["abroad"] for c in receipt.candidates}
    assert list(abroad.values()) == [True, False]
    assert stock_of(sessions, toronto, lamp) == (5, 0)


def test_an_order_too_long_to_search_is_covered_greedily_and_says_so(
    client: FlaskClient, sessions: sessionmaker[Session], allocate: Callable[..., AllocationResult]
) -> None:
    a, b = add_product(sessions), add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={a: 1})
    add_warehouse(sessions, latitude=CHICAGO[0], longitude=CHICAGO[1], stock={b: 1})
    order_id = place(client, [(a, 1), (b, 1)])

    assert allocate(order_id, allocation_exact_max_lines=1).outcome is Allocated.ALLOCATED

    receipt = latest_receipt(sessions, order_id)
    assert (receipt.outcome, receipt.rule) == ("split", "fewest_greedy")
    assert "greedy" in receipt.reason
