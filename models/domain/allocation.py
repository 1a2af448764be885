"""Choosing where an order ships from: as few warehouses as possible, at home before abroad,
nearest first, never more than a warehouse has, and a reason for every choice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.domain.cover import DEFAULT_BUDGET, Option, exact_cover, greedy_cover, options
from models.domain.geo import Point, distance_km

# Orders up to this many lines get the exact search for the fewest warehouses.
EXACT_MAX_LINES = 8


@dataclass(frozen=True)
class Site:
    """A warehouse as the policy sees it: where it is and whether customers may collect there."""

    warehouse_id: int
    code: str
    location: Point
    allows_self_service: bool = True
    country: str | None = None


@dataclass(frozen=True)
class Ranked:
    """A site at its distance from the customer; rank 1 is the nearest."""

    site: Site
    distance_km: float
    rank: int


class Outcome(StrEnum):
    """What the plan does with the order."""

    SINGLE = "single"
    SPLIT = "split"
    SHORT = "short"


class Rule(StrEnum):
    """Which rule decided the plan: the receipt names it."""

    WHOLE = "whole"  # one warehouse holds it all: the nearest such, at home first
    FEWEST_EXACT = "fewest_exact"  # the fewest warehouses, proven by exhaustive search
    FEWEST_BUDGET = "fewest_budget"  # the best set the search found before its budget ran out
    FEWEST_GREEDY = "fewest_greedy"  # too many lines to search: a greedy set cover
    SHORT = "short"  # all eligible warehouses together lack stock


@dataclass(frozen=True)
class Pick:
    """Units of one article taken from one warehouse."""

    warehouse_id: int
    article_number: str
    quantity: int


@dataclass(frozen=True)
class Candidate:
    """A warehouse the plan considered: distance, sellable units of each wanted article."""

    warehouse_id: int
    code: str
    rank: int
    distance_km: float
    available: Mapping[str, int]
    can_fill: bool
    foreign: bool = False


@dataclass(frozen=True)
class Plan:
    """The picks, the reason, every candidate considered, and what is missing when short."""

    outcome: Outcome
    picks: tuple[Pick, ...]
    reason: str
    candidates: tuple[Candidate, ...]
    shortages: Mapping[str, int]
    rule: Rule = Rule.WHOLE

    @property
    def warehouse_ids(self) -> tuple[int, ...]:
        """The warehouses the order ships from, nearest first."""
        return tuple(dict.fromkeys(pick.warehouse_id for pick in self.picks))


def rank(customer: Point, sites: Sequence[Site]) -> list[Ranked]:
    """Sites by great-circle distance to the customer, nearest first, ties broken by code."""
    by_distance = sorted((distance_km(customer, s.location), s.code, s) for s in sites)
    return [Ranked(site, distance, i) for i, (distance, _, site) in enumerate(by_distance, start=1)]


def _fills(available: Mapping[str, int], wanted: Mapping[str, int]) -> bool:
    return all(available.get(article, 0) >= quantity for article, quantity in wanted.items())


def _candidates(
    ranked: Sequence[Ranked],
    stock: Mapping[int, Mapping[str, int]],
    wanted: Mapping[str, int],
    market: str | None,
) -> tuple[Candidate, ...]:
    result = []
    for r in ranked:
        held = stock.get(r.site.warehouse_id, {})
        available = {article: held.get(article, 0) for article in wanted}
        foreign = bool(market and r.site.country and r.site.country != market)
        result.append(
            Candidate(
                r.site.warehouse_id,
                r.site.code,
                r.rank,
                round(r.distance_km, 1),
                available,
                _fills(available, wanted),
                foreign,
            )
        )
    return tuple(result)


def _preferred(c: Candidate) -> tuple[bool, int]:
    # At home before abroad, then nearest: the order every rule below picks in.
    return (c.foreign, c.rank)


def _single(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> Plan | None:
    holders = [c for c in candidates if c.can_fill]
    if not holders:
        return None
    best = min(holders, key=_preferred)
    nearer = sum(1 for c in candidates if c.rank < best.rank)
    if not nearer:
        reason = f"nearest warehouse {best.code} holds the whole order"
    elif any(not c.foreign and c.can_fill for c in candidates) and any(h.foreign for h in holders):
        reason = (
            f"{best.code} is the nearest warehouse at home that holds the whole order "
            f"({nearer} nearer cannot or are abroad)"
        )
    else:
        reason = (
            f"{best.code} is the nearest warehouse that holds the whole order "
            f"({nearer} nearer cannot)"
        )
    picks = tuple(Pick(best.warehouse_id, a, q) for a, q in wanted.items())
    return Plan(Outcome.SINGLE, picks, reason, tuple(candidates), {}, Rule.WHOLE)


def _shortages(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> dict[str, int]:
    totals = {a: sum(c.available[a] for c in candidates) for a in wanted}
    return {a: q - totals[a] for a, q in wanted.items() if totals[a] < q}


def _chosen(
    candidates: Sequence[Candidate], wanted: Mapping[str, int], exact_lines: int, budget: int
) -> tuple[list[Candidate], Rule]:
    by_id = {c.warehouse_id: c for c in candidates}
    choices = options(
        [(c.warehouse_id, c.foreign, c.distance_km, c.rank, c.available) for c in candidates],
        wanted,
    )
    cover: tuple[Option, ...] | None
    if len(wanted) <= exact_lines:
        found = exact_cover(wanted, choices, budget=budget)
        cover = found.chosen if found else None
        rule = Rule.FEWEST_EXACT if found is None or found.exact else Rule.FEWEST_BUDGET
    else:
        cover, rule = greedy_cover(wanted, choices), Rule.FEWEST_GREEDY
    if cover is None:  # not reached: the caller checked that stock suffices
        raise ValueError("no set of warehouses covers the order")
    return sorted((by_id[o.warehouse_id] for o in cover), key=_preferred), rule


def _picks_from(chosen: Sequence[Candidate], wanted: Mapping[str, int]) -> list[Pick]:
    picks: list[Pick] = []
    for article, quantity in wanted.items():
        whole = next((c for c in chosen if c.available[article] >= quantity), None)
        if whole is not None:
            picks.append(Pick(whole.warehouse_id, article, quantity))
            continue
        # No chosen warehouse holds this line whole: take it in the chosen ones' order.
        need = quantity
        for c in chosen:
            take = min(need, c.available[article])
            if take:
                picks.append(Pick(c.warehouse_id, article, take))
                need -= take
            if not need:
                break
    return picks


SPLIT_RULES = {
    Rule.FEWEST_EXACT: "the fewest that can",
    Rule.FEWEST_BUDGET: "the fewest the search found in its budget",
    Rule.FEWEST_GREEDY: "few by a greedy choice (too many lines to search)",
}


def _split(
    candidates: Sequence[Candidate], wanted: Mapping[str, int], exact_lines: int, budget: int
) -> Plan:
    chosen, rule = _chosen(candidates, wanted, exact_lines, budget)
    picks = _picks_from(chosen, wanted)
    codes = [c.code for c in chosen]
    abroad = sum(c.foreign for c in chosen)
    reason = (
        f"no warehouse holds the whole order: split over {len(codes)} warehouses "
        f"({', '.join(codes)}), {SPLIT_RULES[rule]}, then fewest abroad ({abroad}), "
        "then least total distance; each line from the first of them that has it"
    )
    return Plan(Outcome.SPLIT, tuple(picks), reason, tuple(candidates), {}, rule)


def _short(candidates: Sequence[Candidate], shortages: Mapping[str, int], why: str) -> Plan:
    missing = ", ".join(f"{a} short by {n}" for a, n in shortages.items())
    return Plan(
        Outcome.SHORT, (), f"{why}: {missing}", tuple(candidates), dict(shortages), Rule.SHORT
    )


def _missing(candidate: Candidate, wanted: Mapping[str, int]) -> dict[str, int]:
    return {a: q - candidate.available[a] for a, q in wanted.items() if candidate.available[a] < q}


def _short_for_pickup(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> Plan:
    # Pickup happens in one place: report what the closest-to-ready warehouse lacks.
    if not candidates:
        return _short(candidates, dict(wanted), "no warehouse allows pickup")
    best = min(candidates, key=lambda c: sum(_missing(c, wanted).values()))
    why = f"no pickup warehouse holds the whole order; {best.code} comes closest"
    return _short(candidates, _missing(best, wanted), why)


def plan_allocation(
    wanted: Mapping[str, int],
    ranked: Sequence[Ranked],
    stock: Mapping[int, Mapping[str, int]],
    *,
    self_service: bool = False,
    market: str | None = None,
    exact_lines: int = EXACT_MAX_LINES,
    budget: int = DEFAULT_BUDGET,
) -> Plan:
    """Plan an order: one warehouse holding all of it, else the fewest that do, else short.

    `ranked` is every eligible warehouse nearest first, `stock` the sellable units by
    warehouse and article, `market` the country shipped to. Sets of warehouses are
    compared by their number, then how many lie outside `market` (no cross-border parcel
    while a set at home of that size exists), then total distance. Orders of up to
    `exact_lines` lines are searched exhaustively, larger ones covered greedily.
    Self-service orders are collected in one place, so only a warehouse that allows
    pickup and holds the whole order will do.
    """
    if self_service:
        ranked = [r for r in ranked if r.site.allows_self_service]
    candidates = _candidates(ranked, stock, wanted, market)
    single = _single(candidates, wanted)
    if single is not None:
        return single
    if self_service:
        return _short_for_pickup(candidates, wanted)
    shortages = _shortages(candidates, wanted)
    if shortages:
        return _short(candidates, shortages, "not enough stock in all warehouses together")
    return _split(candidates, wanted, exact_lines, budget)
