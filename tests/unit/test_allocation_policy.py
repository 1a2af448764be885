"""Choosing the warehouse: the nearest that holds the whole order, and the distances behind it."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.allocation import Decision, WarehouseStock, choose_warehouse, rank
from models.domain.geo import EARTH_RADIUS_KM, Point, distance_km

NEW_YORK = Point(40.7128, -74.0060)
CHICAGO = Point(41.8781, -87.6298)
LOS_ANGELES = Point(34.0522, -118.2437)
LONDON = Point(51.5074, -0.1278)
PARIS = Point(48.8566, 2.3522)
SYDNEY = Point(-33.8688, 151.2093)
MELBOURNE = Point(-37.8136, 144.9631)

# The customer is in New York; warehouses sit at increasing distances from there.
NEAR = Point(40.7357, -74.1724)  # Newark, ~14 km
MIDDLE = Point(39.9526, -75.1652)  # Philadelphia, ~130 km
FAR = CHICAGO  # ~1145 km


def warehouse(warehouse_id: int, code: str, location: Point, **stock: int) -> WarehouseStock:
    return WarehouseStock(
        warehouse_id, code, location, {sku.upper(): n for sku, n in stock.items()}
    )


# --- distances -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected_km"),
    [
        (NEW_YORK, CHICAGO, 1145.0),
        (NEW_YORK, LOS_ANGELES, 3936.0),
        (LONDON, PARIS, 343.5),
        (SYDNEY, MELBOURNE, 713.4),
    ],
    ids=["new-york-chicago", "new-york-los-angeles", "london-paris", "sydney-melbourne"],
)
def test_known_city_distances_are_within_one_percent(
    a: Point, b: Point, expected_km: float
) -> None:
    assert distance_km(a, b) == pytest.approx(expected_km, rel=0.01)


def test_antipodes_are_half_the_circumference_apart() -> None:
    half_circumference = math.pi * EARTH_RADIUS_KM
    assert distance_km(Point(0, 0), Point(0, 180)) == pytest.approx(half_circumference)
    assert distance_km(Point(90, 0), Point(-90, 0)) == pytest.approx(half_circumference)


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
points = st.builds(Point, latitudes, longitudes)


@given(points, points)
def test_distance_is_symmetric_and_never_negative(a: Point, b: Point) -> None:
    assert distance_km(a, b) == pytest.approx(distance_km(b, a), abs=1e-6)
    assert 0 <= distance_km(a, b) <= math.pi * EARTH_RADIUS_KM + 1e-6


@given(points)
def test_a_point_is_no_distance_from_itself(p: Point) -> None:
    assert distance_km(p, p) == 0


# --- table-driven choices --------------------------------------------------------------------


def test_the_nearest_warehouse_that_holds_the_whole_order_wins() -> None:
    warehouses = [
        warehouse(3, "FAR", FAR, a=10, b=10),
        warehouse(1, "NEAR", NEAR, a=10, b=10),
        warehouse(2, "MID", MIDDLE, a=10, b=10),
    ]
    decision = choose_warehouse(NEW_YORK, {"A": 2, "B": 1}, warehouses)
    assert decision.warehouse_id == 1
    assert decision.allocated
    assert decision.reason == "nearest warehouse holds the whole order"
    assert [c.code for c in decision.candidates] == ["NEAR", "MID", "FAR"]


def test_nearer_warehouses_lacking_one_line_are_skipped() -> None:
    warehouses = [
        warehouse(1, "NEAR", NEAR, a=10),  # no B at all
        warehouse(2, "MID", MIDDLE, a=10, b=0),  # B sold out
        warehouse(3, "FAR", FAR, a=2, b=1),  # exactly enough
    ]
    decision = choose_warehouse(NEW_YORK, {"A": 2, "B": 1}, warehouses)
    assert decision.warehouse_id == 3
    assert "2 nearer cannot" in decision.reason
    assert [c.can_fill for c in decision.candidates] == [False, False, True]


def test_a_warehouse_one_unit_short_cannot_fill_the_line() -> None:
    warehouses = [warehouse(1, "NEAR", NEAR, a=4), warehouse(2, "FAR", FAR, a=5)]
    assert choose_warehouse(NEW_YORK, {"A": 5}, warehouses).warehouse_id == 2


def test_when_nobody_holds_the_whole_order_there_is_no_warehouse_and_a_reason() -> None:
    warehouses = [warehouse(1, "NEAR", NEAR, a=10), warehouse(2, "FAR", FAR, b=10)]
    decision = choose_warehouse(NEW_YORK, {"A": 1, "B": 1}, warehouses)
    assert decision.warehouse_id is None
    assert not decision.allocated
    assert decision.reason == "no warehouse holds the whole order"
    assert len(decision.candidates) == 2


def test_warehouses_at_the_same_distance_are_ranked_by_code() -> None:
    warehouses = [
        warehouse(7, "ZULU", NEAR, a=1),
        warehouse(8, "ALPHA", NEAR, a=1),
        warehouse(9, "MIKE", NEAR, a=1),
    ]
    assert [w.code for w in rank(NEW_YORK, warehouses)] == ["ALPHA", "MIKE", "ZULU"]
    assert choose_warehouse(NEW_YORK, {"A": 1}, warehouses).warehouse_id == 8


def test_with_no_warehouses_nothing_is_chosen_and_nothing_was_considered() -> None:
    decision = choose_warehouse(NEW_YORK, {"A": 1}, [])
    assert decision == Decision(None, "no warehouse holds the whole order", ())
    assert rank(NEW_YORK, []) == []


def test_candidate_distances_are_reported_in_kilometres_to_one_decimal() -> None:
    decision = choose_warehouse(NEW_YORK, {"A": 1}, [warehouse(1, "CHI", CHICAGO, a=1)])
    (candidate,) = decision.candidates
    assert candidate.distance_km == round(distance_km(NEW_YORK, CHICAGO), 1)


# --- properties ------------------------------------------------------------------------------

SKUS = ["A", "B", "C"]
# A few shared spots make equal distances, so the tie-break by code is exercised too.
spots = st.one_of(points, st.sampled_from([NEW_YORK, CHICAGO, NEAR, MIDDLE]))
stock_maps = st.dictionaries(st.sampled_from(SKUS), st.integers(0, 5), max_size=3)
orders = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 5), min_size=1, max_size=3)


@st.composite
def warehouse_lists(draw: st.DrawFn) -> list[WarehouseStock]:
    codes = draw(st.lists(st.text("ABCDEFGH", min_size=1, max_size=3), unique=True, max_size=8))
    return [
        WarehouseStock(i, code, draw(spots), draw(stock_maps)) for i, code in enumerate(codes, 1)
    ]


def fills(w: WarehouseStock, wanted: Mapping[str, int]) -> bool:
    return all(w.available.get(sku, 0) >= qty for sku, qty in wanted.items())


@given(points, orders, warehouse_lists())
def test_the_chosen_warehouse_can_fill_every_line(
    customer: Point, wanted: dict[str, int], warehouses: list[WarehouseStock]
) -> None:
    decision = choose_warehouse(customer, wanted, warehouses)
    if decision.warehouse_id is not None:
        (chosen,) = [w for w in warehouses if w.warehouse_id == decision.warehouse_id]
        assert fills(chosen, wanted)


@given(points, orders, warehouse_lists())
def test_no_warehouse_ahead_of_the_chosen_one_can_fill_the_order(
    customer: Point, wanted: dict[str, int], warehouses: list[WarehouseStock]
) -> None:
    decision = choose_warehouse(customer, wanted, warehouses)
    if decision.warehouse_id is None:
        return
    (chosen,) = [w for w in warehouses if w.warehouse_id == decision.warehouse_id]
    chosen_key = (distance_km(customer, chosen.location), chosen.code)
    ahead = [w for w in warehouses if (distance_km(customer, w.location), w.code) < chosen_key]
    assert not any(fills(w, wanted) for w in ahead)


@given(points, orders, warehouse_lists())
def test_when_nothing_is_chosen_no_warehouse_can_fill_the_order(
    customer: Point, wanted: dict[str, int], warehouses: list[WarehouseStock]
) -> None:
    decision = choose_warehouse(customer, wanted, warehouses)
    assert (decision.warehouse_id is None) == (not any(fills(w, wanted) for w in warehouses))


@given(points, orders, warehouse_lists())
def test_every_warehouse_is_a_candidate_and_candidates_are_sorted_by_distance(
    customer: Point, wanted: dict[str, int], warehouses: list[WarehouseStock]
) -> None:
    candidates = choose_warehouse(customer, wanted, warehouses).candidates
    assert sorted(c.warehouse_id for c in candidates) == [w.warehouse_id for w in warehouses]
    distances = [c.distance_km for c in candidates]
    assert distances == sorted(distances)
    ranked = [distance_km(customer, w.location) for w in rank(customer, warehouses)]
    assert ranked == sorted(ranked)
