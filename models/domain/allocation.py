"""Choosing where an order ships from: nearest first, as few warehouses as possible, never more
than a warehouse has, and a reason for every choice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from models.domain.geo import Point, distance_km


@dataclass(frozen=True)
class Site:
    """A warehouse as the policy sees it: where it is and whether customers may collect there."""

    warehouse_id: int
    code: str
    location: Point
    allows_self_service: bool = True


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


@dataclass(frozen=True)
class Plan:
    """The picks, the reason, every candidate considered, and what is missing when short."""

    outcome: Outcome
    picks: tuple[Pick, ...]
    reason: str
    candidates: tuple[Candidate, ...]
    shortages: Mapping[str, int]

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
    ranked: Sequence[Ranked], stock: Mapping[int, Mapping[str, int]], wanted: Mapping[str, int]
) -> tuple[Candidate, ...]:
    result = []
    for r in ranked:
        held = stock.get(r.site.warehouse_id, {})
        available = {article: held.get(article, 0) for article in wanted}
        result.append(
            Candidate(
                r.site.warehouse_id,
                r.site.code,
                r.rank,
                round(r.distance_km, 1),
                available,
                _fills(available, wanted),
            )
        )
    return tuple(result)


def _single(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> Plan | None:
    for position, candidate in enumerate(candidates):
        if candidate.can_fill:
            reason = (
                f"nearest warehouse {candidate.code} holds the whole order"
                if position == 0
                else f"{candidate.code} is the nearest warehouse that holds the whole order "
                f"({position} nearer cannot)"
            )
            picks = tuple(Pick(candidate.warehouse_id, a, q) for a, q in wanted.items())
            return Plan(Outcome.SINGLE, picks, reason, tuple(candidates), {})
    return None


def _shortages(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> dict[str, int]:
    totals = {a: sum(c.available[a] for c in candidates) for a in wanted}
    return {a: q - totals[a] for a, q in wanted.items() if totals[a] < q}


def _cover(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> list[Candidate]:
    """Greedy set cover of whole lines: each round takes the warehouse holding most open lines."""
    remaining = set(wanted)
    chosen: list[Candidate] = []
    while remaining:
        # max() keeps the first of equals, and candidates are nearest first.
        best = max(candidates, key=lambda c: sum(c.available[a] >= wanted[a] for a in remaining))
        covered = {a for a in remaining if best.available[a] >= wanted[a]}
        if not covered:
            break
        chosen.append(best)
        remaining -= covered
    return sorted(chosen, key=lambda c: c.rank)


def _split(candidates: Sequence[Candidate], wanted: Mapping[str, int]) -> Plan:
    chosen = _cover(candidates, wanted)
    picks: list[Pick] = []
    for article, quantity in wanted.items():
        whole = next((c for c in chosen if c.available[article] >= quantity), None)
        if whole is not None:
            picks.append(Pick(whole.warehouse_id, article, quantity))
            continue
        # No warehouse holds this line whole: take it nearest first, wherever it is.
        need = quantity
        for c in candidates:
            take = min(need, c.available[article])
            if take:
                picks.append(Pick(c.warehouse_id, article, take))
                need -= take
            if not need:
                break
    codes = [c.code for c in candidates if c.warehouse_id in {p.warehouse_id for p in picks}]
    reason = (
        f"no warehouse holds the whole order: split over {len(codes)} warehouses "
        f"({', '.join(codes)}), each line from the nearest of them that has it"
    )
    return Plan(Outcome.SPLIT, tuple(picks), reason, tuple(candidates), {})


def _short(candidates: Sequence[Candidate], shortages: Mapping[str, int], why: str) -> Plan:
    missing = ", ".join(f"{a} short by {n}" for a, n in shortages.items())
    return Plan(Outcome.SHORT, (), f"{why}: {missing}", tuple(candidates), dict(shortages))


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
) -> Plan:
    """Plan an order: the nearest warehouse holding all of it, else a split, else short.

    `ranked` is every eligible warehouse nearest first, `stock` the sellable units by
    warehouse and article. Self-service orders are collected in one place, so only a
    warehouse that allows pickup and holds the whole order will do.
    """
    if self_service:
        ranked = [r for r in ranked if r.site.allows_self_service]
    candidates = _candidates(ranked, stock, wanted)
    single = _single(candidates, wanted)
    if single is not None:
        return single
    if self_service:
        return _short_for_pickup(candidates, wanted)
    shortages = _shortages(candidates, wanted)
    if shortages:
        return _short(candidates, shortages, "not enough stock in all warehouses together")
    return _split(candidates, wanted)
