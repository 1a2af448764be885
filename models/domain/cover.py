"""The fewest warehouses that hold an order between them: an exact search, and a greedy one.

A set of warehouses covers an order when, for every article, their units together reach the
quantity wanted. Sets are compared by a key: how many warehouses (parcels), then how many of
them ship across a border, then their total distance to the customer. The exact search finds
a set with the least key by branch and bound; it is meant for orders of a few lines, where
the number of sets worth trying stays small, and it stops after `budget` nodes whatever the
input (the caller says so in the receipt). The greedy cover is the fallback beyond that.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import ge

# More than an order of a few lines needs (tens of nodes for three lines over sixty holders,
# a few thousand for eight lines over four hundred), and a pathological one stops in tens of ms.
DEFAULT_BUDGET = 10_000


@dataclass(frozen=True)
class Option:
    """A warehouse as the search sees it: its order key and its units, capped at the need."""

    warehouse_id: int
    foreign: bool
    distance_km: float
    rank: int
    units: Mapping[str, int]


Key = tuple[int, int, float]


def key_of(chosen: Sequence[Option]) -> Key:
    """Parcels, cross-border parcels, total distance: smaller is better."""
    return (len(chosen), sum(o.foreign for o in chosen), sum(o.distance_km for o in chosen))


def options(
    candidates: Sequence[tuple[int, bool, float, int, Mapping[str, int]]],
    wanted: Mapping[str, int],
) -> list[Option]:
    """The candidates that hold any of the order, their units capped at the quantity wanted.

    A warehouse never needs to give more of an article than the order wants, so capping
    makes two warehouses that both hold "enough" alike, and lets dominance prune them.
    """
    result = []
    for warehouse_id, foreign, distance, rank, available in candidates:
        units = {a: min(available.get(a, 0), q) for a, q in wanted.items()}
        if any(units.values()):
            result.append(Option(warehouse_id, foreign, distance, rank, units))
    return result


def _undominated(choices: Sequence[Option], most: int) -> list[Option]:
    """Drop each option that `most` others beat: as many units of each article, no worse key.

    `most` is the size of some cover, so a best cover has at most that many warehouses. If
    one of them is an option with `most` dominators, a dominator is outside it, and swapping
    the two keeps a cover a cover without making its key worse; so a best cover is among the
    rest. Options come best key first, so every dominator is seen before what it beats.
    """
    ordered = sorted(choices, key=lambda o: (o.foreign, o.distance_km, o.rank))
    kept: list[Option] = []
    kept_units: list[tuple[int, ...]] = []
    for option in ordered:
        units = tuple(option.units.values())
        beaten = 0
        for other in kept_units:
            if all(map(ge, other, units)):
                beaten += 1
                if beaten == most:
                    break
        if beaten < most:
            kept.append(option)
            kept_units.append(units)
    return kept


def _bits(mask: int) -> Iterator[int]:
    """The positions of the set bits of `mask`, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class _Search:
    """Branch and bound over sets of options, with sets of options and articles as bitmasks."""

    def __init__(self, choices: Sequence[Option], articles: Sequence[str], budget: int) -> None:
        self.choices = choices
        self.units = [tuple(o.units[a] for a in articles) for o in choices]
        self.holders = [
            sum(1 << i for i, u in enumerate(self.units) if u[j]) for j in range(len(articles))
        ]
        self.lines = [sum(1 << j for j, n in enumerate(u) if n) for u in self.units]
        # Units of each article, largest first, summed: how few warehouses could reach a need,
        # were every option still open (a bound that stays true as options are taken).
        self.reach = [
            list(accumulate(sorted((u[j] for u in self.units), reverse=True)))
            for j in range(len(articles))
        ]
        self.widest: dict[int, int] = {}
        self.everyone = (1 << len(choices)) - 1
        self.budget = budget
        self.nodes = 0
        self.complete = True
        self.best: tuple[int, ...] = ()
        self.best_key: Key = (len(choices) + 1, 0, 0.0)

    def bound(self, needs: tuple[int, ...], open_: int) -> int | None:
        """At least how many more options the needs take; None when the open ones cannot."""
        most, live = 0, 0
        for j, need in enumerate(needs):
            if need:
                if not self.holders[j] & open_ or self.reach[j][-1] < need:
                    return None
                most = max(most, bisect_left(self.reach[j], need) + 1)
                live |= 1 << j
        # Each option completes at most the live lines it holds any of: counted over every
        # option, open or not (a weaker bound, the same for every node with these lines).
        widest = self.widest.get(live)
        if widest is None:
            widest = self.widest[live] = max((n & live).bit_count() for n in self.lines)
        return max(most, -(-live.bit_count() // widest))

    def run(self, chosen: tuple[int, ...], needs: tuple[int, ...], shut: int, key: Key) -> None:
        """Every cover extending `chosen` with options outside `shut`; keeps the best."""
        self.nodes += 1
        if self.nodes > self.budget:
            self.complete = False
            return
        if not any(needs):
            if key < self.best_key:
                self.best, self.best_key = chosen, key
            return
        open_ = self.everyone & ~shut
        more = self.bound(needs, open_)
        if more is None or (key[0] + more, key[1], key[2]) >= self.best_key:
            return
        # Any cover holds some option with this article: branch on the scarcest one.
        live = [j for j, need in enumerate(needs) if need]
        article = min(live, key=lambda j: (self.holders[j] & open_).bit_count())
        for i in _bits(self.holders[article] & open_):
            option, units = self.choices[i], self.units[i]
            left = tuple(max(0, need - got) for need, got in zip(needs, units, strict=True))
            grown = (key[0] + 1, key[1] + option.foreign, key[2] + option.distance_km)
            self.run((*chosen, i), left, shut | 1 << i, grown)
            # Covers with this option are all found now: the next branches do without it.
            shut |= 1 << i


@dataclass(frozen=True)
class Cover:
    """The chosen warehouses, best key first, and whether the search proved them best."""

    chosen: tuple[Option, ...]
    exact: bool
    nodes: int


def exact_cover(
    wanted: Mapping[str, int], choices: Sequence[Option], *, budget: int = DEFAULT_BUDGET
) -> Cover | None:
    """A cover with the least key, or the best found within `budget`; None when none exists."""
    greedy = greedy_cover(wanted, choices)
    if greedy is None:
        return None
    kept = _undominated(choices, len(greedy))
    articles = [a for a, q in wanted.items() if q > 0]
    search = _Search(kept, articles, budget)
    search.run((), tuple(wanted[a] for a in articles), 0, (0, 0, 0.0))
    best = [kept[i] for i in search.best]
    if not best or key_of(greedy) <= search.best_key:
        best = list(greedy)
    chosen = tuple(sorted(best, key=lambda o: (o.foreign, o.distance_km, o.rank)))
    return Cover(chosen, search.complete, search.nodes)


def greedy_cover(wanted: Mapping[str, int], choices: Sequence[Option]) -> tuple[Option, ...] | None:
    """Each round the warehouse that gives most of what is still missing; None when short.

    Whole lines count first (a line from one warehouse is one pick), then units, then the
    key: near and domestic before far and foreign.
    """
    remaining = {a: q for a, q in wanted.items() if q > 0}
    pool = sorted(choices, key=lambda o: (o.foreign, o.distance_km, o.rank))
    chosen: list[Option] = []
    while remaining:
        taken = {o.warehouse_id for o in chosen}
        best = max(
            (o for o in pool if o.warehouse_id not in taken),
            key=lambda o: (
                sum(o.units[a] >= n for a, n in remaining.items()),
                sum(min(o.units[a], n) for a, n in remaining.items()),
            ),
            default=None,
        )
        if best is None or not any(best.units[a] for a in remaining):
            return None
        chosen.append(best)
        remaining = {a: n - best.units[a] for a, n in remaining.items() if n > best.units[a]}
    return tuple(chosen)
