"""Splits over the fewest warehouses, at home first, then nearest: checked by brute force."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st

from models.domain.allocation import Outcome, Plan, Rule, Site, plan_allocation, rank
from models.domain.geo import Point

CUSTOMER = Point(55.60, 13.00)  # Malmö: Sweden, a bridge away from Denmark


def spot(km_north: float) -> Point:
    # About 111 km a degree of latitude: a site `km_north` from the customer.
    return Point(CUSTOMER.latitude + km_north / 111.2, CUSTOMER.longitude)


def plan_for(
    wanted: Mapping[str, int],
    sites: Sequence[Site],
    stock: Mapping[int, Mapping[str, int]],
    *,
    exact_lines: int = 8,
    budget: int = 10_000,
) -> Plan:
    ranked = rank(CUSTOMER, sites)
    return plan_allocation(
        wanted, ranked, stock, market="SE", exact_lines=exact_lines, budget=budget
    )


def codes(plan: Plan) -> set[str]:
    chosen = set(plan.warehouse_ids)
    return {c.code for c in plan.candidates if c.warehouse_id in chosen}


def test_two_warehouses_beat_three_nearer_ones() -> None:
    # Greedy takes G first (most whole lines) and then needs two more; P and Q do it in two.
    sites = [Site(1, "G", spot(10)), Site(2, "P", spot(300)), Site(3, "Q", spot(400))]
    sites += [Site(4, "C", spot(20)), Site(5, "F", spot(30))]
    stock = {
        1: {"A": 1, "B": 1, "D": 1, "E": 1},
        2: {"A": 1, "B": 1, "C": 1},
        3: {"D": 1, "E": 1, "F": 1},
        4: {"C": 1},
        5: {"F": 1},
    }
    wanted = dict.fromkeys("ABCDEF", 1)

    exact = plan_for(wanted, sites, stock)
    greedy = plan_for(wanted, sites, stock, exact_lines=5)

    assert (exact.outcome, exact.rule, codes(exact)) == (
        Outcome.SPLIT,
        Rule.FEWEST_EXACT,
        {"P", "Q"},
    )
    assert greedy.rule is Rule.FEWEST_GREEDY
    assert len(codes(greedy)) == 3
    assert "split over 2 warehouses" in exact.reason


def test_a_pair_at_home_beats_a_nearer_pair_across_the_border() -> None:
    sites = [
        Site(1, "CPH", spot(5), country="DK"),
        Site(2, "MMA", spot(2), country="SE"),
        Site(3, "STO", spot(500), country="SE"),
    ]
    stock = {1: {"A": 1}, 2: {"B": 1}, 3: {"A": 1}}

    result = plan_for({"A": 1, "B": 1}, sites, stock)

    assert codes(result) == {"MMA", "STO"}
    assert "fewest abroad (0)" in result.reason


def test_a_single_warehouse_at_home_beats_a_nearer_one_abroad() -> None:
    sites = [Site(1, "CPH", spot(5), country="DK"), Site(2, "STO", spot(500), country="SE")]
    stock = {1: {"A": 2}, 2: {"A": 2}}

    result = plan_for({"A": 2}, sites, stock)

    assert (result.outcome, result.rule, codes(result)) == (Outcome.SINGLE, Rule.WHOLE, {"STO"})
    assert "nearest warehouse at home" in result.reason


def test_abroad_is_used_when_nothing_at_home_will_do() -> None:
    sites = [Site(1, "CPH", spot(5), country="DK"), Site(2, "STO", spot(500), country="SE")]

    result = plan_for({"A": 2}, sites, {1: {"A": 2}, 2: {"A": 1}})

    assert codes(result) == {"CPH"}


def test_a_search_out_of_budget_says_so_and_still_covers_the_order() -> None:
    sites = [Site(i, f"W{i}", spot(i)) for i in range(1, 13)]
    stock = {i: {a: 1 for a in "ABCDEF" if (i + ord(a)) % 3} for i in range(1, 13)}
    wanted = dict.fromkeys("ABCDEF", 4)

    result = plan_for(wanted, sites, stock, budget=5)

    assert result.rule is Rule.FEWEST_BUDGET
    assert "in its budget" in result.reason
    assert _covered(result) == wanted


# --- brute force ----------------------------------------------------------------------------

ARTICLES = "ABCD"


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[Site], dict[int, dict[str, int]]]:
    count = draw(st.integers(1, 7))
    sites = [
        Site(i, f"W{i}", spot(draw(st.integers(0, 900))), country=draw(st.sampled_from("SD")) + "E")
        for i in range(1, count + 1)
    ]
    units = st.dictionaries(st.sampled_from(ARTICLES), st.integers(0, 4), max_size=4)
    return sites, {s.warehouse_id: draw(units) for s in sites}


orders = st.dictionaries(st.sampled_from(ARTICLES), st.integers(1, 6), min_size=1, max_size=4)


def _key(plan: Plan) -> tuple[int, int, float]:
    chosen = [c for c in plan.candidates if c.warehouse_id in set(plan.warehouse_ids)]
    return (len(chosen), sum(c.foreign for c in chosen), sum(c.distance_km for c in chosen))


def _best_by_brute_force(plan: Plan, wanted: Mapping[str, int]) -> tuple[int, int, float] | None:
    everyone = plan.candidates
    for size in range(1, len(everyone) + 1):
        keys = [
            (size, sum(c.foreign for c in group), sum(c.distance_km for c in group))
            for group in combinations(everyone, size)
            if all(sum(c.available[a] for c in group) >= q for a, q in wanted.items())
        ]
        if keys:
            return min(keys)
    return None


def _covered(plan: Plan) -> dict[str, int]:
    covered = Counter[str]()
    for p in plan.picks:
        covered[p.article_number] += p.quantity
    return dict(covered)


@settings(max_examples=400)
@given(orders, worlds())
def test_the_exact_search_finds_what_brute_force_finds(
    wanted: dict[str, int], world: tuple[list[Site], dict[int, dict[str, int]]]
) -> None:
    sites, stock = world
    result = plan_for(wanted, sites, stock)
    best = _best_by_brute_force(result, wanted)

    if best is None:
        assert result.outcome is Outcome.SHORT
        return
    assert result.rule in (Rule.WHOLE, Rule.FEWEST_EXACT)
    parcels, abroad, distance = _key(result)
    assert (parcels, abroad) == best[:2]
    assert abs(distance - best[2]) < 1e-6
    assert _covered(result) == wanted


@given(orders, worlds())
def test_the_greedy_cover_covers_the_order_from_no_more_than_it_needs(
    wanted: dict[str, int], world: tuple[list[Site], dict[int, dict[str, int]]]
) -> None:
    sites, stock = world
    result = plan_for(wanted, sites, stock, exact_lines=0)

    if result.outcome is Outcome.SPLIT:
        assert result.rule is Rule.FEWEST_GREEDY
        assert _covered(result) == wanted
        taken = Counter[tuple[int, str]]()
        for p in result.picks:
            taken[(p.warehouse_id, p.article_number)] += p.quantity
        assert all(n <= stock[w].get(a, 0) for (w, a), n in taken.items())
