"""Partial fulfilment's pure rules: which whole lines ship now, and what each part costs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pytest

from models.domain.allocation import Plan, Site, plan_allocation, rank
from models.domain.geo import Point
from models.domain.mail_parts import part_of
from models.domain.partial import Split, coverable, part_charge
from models.domain.payments import charge_key, charge_reference, refund_key

NEW_YORK = Point(40.7128, -74.0060)
SITES = [Site(1, "NEAR", Point(40.7357, -74.1724)), Site(2, "FAR", Point(41.8781, -87.6298))]


def plan(wanted: Mapping[str, int], stock: Mapping[int, Mapping[str, int]]) -> Plan:
    return plan_allocation(wanted, rank(NEW_YORK, SITES), stock)


def test_lines_all_warehouses_together_hold_ship_now_and_the_rest_waits() -> None:
    wanted = {"A": 2, "B": 1, "C": 4}
    short = plan(wanted, {1: {"A": 1, "C": 3}, 2: {"A": 1, "C": 0}})

    assert coverable(short, wanted) == Split(now={"A": 2}, waiting={"B": 1, "C": 4})


def test_a_line_is_never_split_by_units_between_parts() -> None:
    wanted = {"A": 5, "B": 1}
    short = plan(wanted, {1: {"A": 4, "B": 1}})

    assert coverable(short, wanted) == Split(now={"B": 1}, waiting={"A": 5})


@pytest.mark.parametrize(
    ("why", "stock"),
    [("nothing in stock", {1: {"A": 0}}), ("all of it in stock", {1: {"A": 2, "B": 1}})],
)
def test_no_split_when_nothing_or_everything_can_ship(
    why: str, stock: Mapping[int, Mapping[str, int]]
) -> None:
    wanted = {"A": 2, "B": 1}

    assert coverable(plan(wanted, stock), wanted) is None, why


def test_part_one_carries_the_delivery_and_later_parts_only_their_goods() -> None:
    prices = {10: 10000, 11: 2500}

    assert part_charge({10: 2}, prices, part=1, delivery_cost=4900) == 24900
    assert part_charge({11: 1}, prices, part=2, delivery_cost=4900) == 2500


def test_each_part_has_its_own_gateway_key_and_reference_and_part_one_keeps_todays() -> None:
    order_id = uuid.UUID(int=7)

    assert charge_key(order_id) == charge_key(order_id, 1) == f"order-{order_id}-charge"
    assert charge_key(order_id, 2) == f"order-{order_id}-charge-2"
    assert refund_key(order_id, 2) == f"order-{order_id}-refund-2"
    assert charge_reference(order_id) == str(order_id)
    assert charge_reference(order_id, 3) == f"{order_id}/part-3"


@pytest.mark.parametrize(
    ("kind", "part"),
    [
        ("shipped", None),
        ("shipped#2", 2),
        ("partially_shipped#1", 1),
        ("part_payment_failed#3", 3),
        ("refund_issued#12", None),  # a refund's id, not a part
    ],
)
def test_a_mail_names_the_part_it_is_about(kind: str, part: int | None) -> None:
    assert part_of(kind) == part
