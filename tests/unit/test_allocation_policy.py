"""The allocation policy: nearest whole order first, then splits, then short; never oversold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.allocation import Outcome, Plan, Ranked, Site, plan_allocation, rank
from models.domain.geo import Point

NEW_YORK = Point(40.7128, -74.0060)
CHICAGO = Point(41.8781, -87.6298)

# The customer is in New York; warehouses sit at increasing distances from there.
NEAR = Point(40.7357, -74.1724)  # Newark, ~14 km
MIDDLE = Point(39.9526, -75.1652)  # Philadelphia, ~130 km
FAR = CHICAGO  # ~1145 km

SITES = [Site(1, "NEAR", NEAR), Site(2, "MIDDLE", MIDDLE), Site(3, "FAR", FAR)]


def plan(
    wanted: Mapping[str, int],
    stock: Mapping[int, Mapping[str, int]],
    sites: list[Site] = SITES,
    *,
    self_service: bool = False,
) -> Plan:
    return plan_allocation(wanted, rank(NEW_YORK, sites), stock, self_service=self_service)


def picks(p: Plan) -> set[tuple[int, str, int]]:
    return {(x.warehouse_id, x.article_number, x.quantity) for x in p.picks}


# --- table ---------------------------------------------------------------------------------

CASES = [
    # (why, wanted, stock by warehouse id, outcome, picks)
    ("nearest holds all", {"A": 2}, {1: {"A": 2}, 2: {"A": 9}}, Outcome.SINGLE, {(1, "A", 2)}),
    (
        "nearer short, next holds all",
        {"A": 2, "B": 1},
        {1: {"A": 2}, 2: {"A": 2, "B": 1}},
        Outcome.SINGLE,
        {(2, "A", 2), (2, "B", 1)},
    ),
    (
        "one unit short is short",
        {"A": 3},
        {1: {"A": 2}, 3: {"A": 3}},
        Outcome.SINGLE,
        {(3, "A", 3)},
    ),
    (
        "far single beats near split",
        {"A": 1, "B": 1},
        {1: {"A": 1}, 2: {"B": 1}, 3: {"A": 1, "B": 1}},
        Outcome.SINGLE,
        {(3, "A", 1), (3, "B", 1)},
    ),
    (
        "split lines to nearest holder",
        {"A": 1, "B": 1},
        {1: {"A": 1}, 2: {"A": 1, "B": 1, "C": 0}, 3: {"B": 5}},
        Outcome.SINGLE,
        {(2, "A", 1), (2, "B", 1)},
    ),
    (
        "split when nobody holds all",
        {"A": 2, "B": 2},
        {1: {"A": 2}, 2: {"B": 1}, 3: {"B": 2}},
        Outcome.SPLIT,
        {(1, "A", 2), (3, "B", 2)},
    ),
    (
        "line split nearest first",
        {"A": 5},
        {1: {"A": 2}, 2: {"A": 2}, 3: {"A": 2}},
        Outcome.SPLIT,
        {(1, "A", 2), (2, "A", 2), (3, "A", 1)},
    ),
    ("short in total", {"A": 7}, {1: {"A": 2}, 2: {"A": 2}, 3: {"A": 2}}, Outcome.SHORT, set()),
    ("no stock anywhere", {"A": 1}, {}, Outcome.SHORT, set()),
]


@pytest.mark.parametrize(
    ("why", "wanted", "stock", "outcome", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_the_policy_table(
    why: str,
    wanted: dict[str, int],
    stock: dict[int, dict[str, int]],
    outcome: Outcome,
    expected: set[tuple[int, str, int]],
) -> None:
    result = plan(wanted, stock)

    assert result.outcome is outcome, why
    assert picks(result) == expected, why
    assert result.reason


def test_a_split_uses_as_few_warehouses_as_the_lines_allow() -> None:
    # NEAR has A, MIDDLE has B, FAR has B and C: two warehouses do it, not three.
    result = plan({"A": 1, "B": 1, "C": 1}, {1: {"A": 1}, 2: {"B": 1}, 3: {"B": 1, "C": 1}})

    assert result.outcome is Outcome.SPLIT
    assert picks(result) == {(1, "A", 1), (3, "B", 1), (3, "C", 1)}
    assert "split over 2 warehouses (NEAR, FAR)" in result.reason


def test_a_short_plan_says_what_is_missing() -> None:
    result = plan({"A": 7, "B": 1}, {1: {"A": 2, "B": 1}, 2: {"A": 2}})

    assert result.shortages == {"A": 3}
    assert "A short by 3" in result.reason


def test_self_service_goes_to_the_nearest_pickup_warehouse_that_holds_the_order() -> None:
    sites = [
        Site(1, "NEAR", NEAR, allows_self_service=False),
        Site(2, "MIDDLE", MIDDLE),
        Site(3, "FAR", FAR),
    ]

    result = plan({"A": 1}, {1: {"A": 5}, 2: {"A": 5}}, sites, self_service=True)

    assert picks(result) == {(2, "A", 1)}
    assert all(c.warehouse_id != 1 for c in result.candidates)


def test_self_service_is_never_split_and_says_which_pickup_comes_closest() -> None:
    result = plan(
        {"A": 2, "B": 2}, {1: {"A": 2}, 2: {"B": 2}, 3: {"A": 1, "B": 2}}, self_service=True
    )

    assert result.outcome is Outcome.SHORT
    assert result.shortages == {"A": 1}
    assert "FAR comes closest" in result.reason


def test_the_receipt_lists_every_candidate_with_distance_and_stock() -> None:
    result = plan({"A": 1}, {2: {"A": 4}})

    assert [(c.code, c.rank) for c in result.candidates] == [("NEAR", 1), ("MIDDLE", 2), ("FAR", 3)]
    assert [c.available for c in result.candidates] == [{"A": 0}, {"A": 4}, {"A": 0}]
    assert 10 < result.candidates[0].distance_km < 20
    assert "(1 nearer cannot)" in result.reason


def test_warehouses_at_the_same_distance_are_ranked_by_code() -> None:
    ranked = rank(NEW_YORK, [Site(1, "B", NEAR), Site(2, "A", NEAR)])

    assert [r.site.code for r in ranked] == ["A", "B"]
    assert [r.rank for r in ranked] == [1, 2]


# --- properties ------------------------------------------------------------------------------

points = st.builds(Point, st.floats(-90, 90), st.floats(-180, 180))
ARTICLES = ["A", "B", "C"]
# A few shared spots make equal distances, so the tie-break by code is exercised too.
spots = st.one_of(points, st.sampled_from([NEW_YORK, CHICAGO, NEAR, MIDDLE]))
stock_maps = st.dictionaries(st.sampled_from(ARTICLES), st.integers(0, 5), max_size=3)
orders = st.dictionaries(st.sampled_from(ARTICLES), st.integers(1, 6), min_size=1, max_size=3)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Ranked], dict[int, dict[str, int]]]:
    codes = draw(st.lists(st.text("ABCDEFGH", min_size=1, max_size=3), unique=True, max_size=8))
    sites = [Site(i, code, draw(spots), draw(st.booleans())) for i, code in enumerate(codes, 1)]
    stock = {s.warehouse_id: draw(stock_maps) for s in sites}
    return rank(draw(points), sites), stock


def holds(stock: Mapping[str, int], wanted: Mapping[str, int]) -> bool:
    return all(stock.get(a, 0) >= q for a, q in wanted.items())


@given(orders, worlds(), st.booleans())
def test_no_plan_takes_more_than_a_warehouse_has(
    wanted: dict[str, int], world: tuple[list[Ranked], dict[int, dict[str, int]]], pickup: bool
) -> None:
    ranked, stock = world
    result = plan_allocation(wanted, ranked, stock, self_service=pickup)

    taken = Counter[tuple[int, str]]()
    for p in result.picks:
        assert p.quantity > 0
        taken[(p.warehouse_id, p.article_number)] += p.quantity
    for (warehouse_id, article), quantity in taken.items():
        assert quantity <= stock[warehouse_id].get(article, 0)


@given(orders, worlds(), st.booleans())
def test_every_line_is_covered_exactly_unless_the_plan_is_short(
    wanted: dict[str, int], world: tuple[list[Ranked], dict[int, dict[str, int]]], pickup: bool
) -> None:
    ranked, stock = world
    result = plan_allocation(wanted, ranked, stock, self_service=pickup)

    covered = Counter[str]()
    for p in result.picks:
        covered[p.article_number] += p.quantity
    if result.outcome is Outcome.SHORT:
        assert result.picks == ()
        assert result.shortages
    else:
        assert dict(covered) == wanted


@given(orders, worlds())
def test_a_single_warehouse_plan_picks_the_nearest_that_holds_the_order(
    wanted: dict[str, int], world: tuple[list[Ranked], dict[int, dict[str, int]]]
) -> None:
    ranked, stock = world
    result = plan_allocation(wanted, ranked, stock)

    holders = [r.site.warehouse_id for r in ranked if holds(stock[r.site.warehouse_id], wanted)]
    if holders:
        assert result.outcome is Outcome.SINGLE
        assert result.warehouse_ids == (holders[0],)
    else:
        assert result.outcome is not Outcome.SINGLE


@given(orders, worlds())
def test_an_order_is_short_exactly_when_all_warehouses_together_lack_stock(
    wanted: dict[str, int], world: tuple[list[Ranked], dict[int, dict[str, int]]]
) -> None:
    ranked, stock = world
    result = plan_allocation(wanted, ranked, stock)

    totals = {a: sum(s.get(a, 0) for s in stock.values()) for a in wanted}
    assert (result.outcome is Outcome.SHORT) == any(totals[a] < q for a, q in wanted.items())


@given(orders, worlds())
def test_pickup_plans_use_one_pickup_warehouse(
    wanted: dict[str, int], world: tuple[list[Ranked], dict[int, dict[str, int]]]
) -> None:
    ranked, stock = world
    result = plan_allocation(wanted, ranked, stock, self_service=True)

    pickup = {r.site.warehouse_id for r in ranked if r.site.allows_self_service}
    assert result.outcome is not Outcome.SPLIT
    assert set(result.warehouse_ids) <= pickup
    assert len(result.warehouse_ids) <= 1
