"""The caps of partial refunds (models/store/refunds.py): no line and no payment ever gets
back more than was charged for it, whatever sequence of line cancels comes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Row

from models.store.refunds import _cap, _priced


def rows(lines: Sequence[tuple[int, int, int]]) -> Sequence[Row[int, int, int]]:
    """(line id, quantity, unit price) as the statement's rows."""
    return cast(Sequence[Row[int, int, int]], lines)


def test_units_are_priced_at_their_line_price() -> None:
    owed = _priced(rows([(1, 3, 1000), (2, 1, 250)]), {1: 2, 2: 1}, {})

    assert owed == {1: 2000, 2: 250}


def test_a_line_gets_back_no_more_than_is_left_of_it() -> None:
    owed = _priced(rows([(1, 3, 1000)]), {1: 3}, {1: 2500})

    assert owed == {1: 500}


def test_a_line_already_given_back_in_full_gets_nothing() -> None:
    assert _priced(rows([(1, 2, 1000)]), {1: 1}, {1: 2000}) == {1: 0}
    assert _priced(rows([(1, 2, 1000)]), {1: 1}, {1: 9999}) == {1: 0}


def test_the_cap_trims_the_last_lines_first() -> None:
    assert _cap({1: 1000, 2: 500, 3: 700}, 1800) == {1: 1000, 2: 500, 3: 300}
    assert _cap({1: 1000, 2: 500, 3: 700}, 900) == {1: 900, 2: 0, 3: 0}


def test_the_cap_leaves_amounts_within_room_alone_and_gives_nothing_for_no_room() -> None:
    assert _cap({1: 1000, 2: 500}, 5000) == {1: 1000, 2: 500}
    assert _cap({1: 1000}, 0) == {1: 0}
    assert _cap({1: 1000}, -300) == {1: 0}


LINES = st.lists(st.tuples(st.integers(1, 5), st.integers(0, 50_000)), min_size=1, max_size=4)
# Each step: a line (by index), units asked, and whether the gateway refused that refund.
STEPS = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5), st.booleans()), max_size=25)


def _run(
    lines: list[tuple[int, int]], delivery: int, steps: list[tuple[int, int, bool]]
) -> tuple[dict[int, int], int, int]:
    """Cancel and refund as the service does; refunded per line, in all, and the charge."""
    table = [(i + 1, q, p) for i, (q, p) in enumerate(lines)]
    charged = sum(q * p for _, q, p in table) + delivery
    cancelled = dict.fromkeys(range(1, len(table) + 1), 0)
    refunded = dict.fromkeys(cancelled, 0)
    for index, asked, refused in steps:
        line_id, quantity, _ = table[index % len(table)]
        units = min(asked, quantity - cancelled[line_id])
        if units < 1:
            continue
        cancelled[line_id] += units
        room = charged - sum(refunded.values())
        row = [line for line in table if line[0] == line_id]
        owed = _cap(_priced(rows(row), {line_id: units}, refunded), room)
        if not refused:  # a refused refund gave nothing back and counts against no cap
            for line, amount in owed.items():
                refunded[line] += amount
    return refunded, sum(refunded.values()), charged


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(0, 5_000), STEPS)
def test_refunds_never_exceed_the_charge_per_line_or_in_all_and_are_never_negative(
    lines: list[tuple[int, int]], delivery: int, steps: list[tuple[int, int, bool]]
) -> None:
    refunded, total, charged = _run(lines, delivery, steps)

    for line_id, (quantity, price) in enumerate(lines, start=1):
        assert 0 <= refunded[line_id] <= quantity * price
    assert 0 <= total <= charged


@settings(max_examples=300, deadline=None)
@given(LINES, st.integers(0, 5_000), STEPS)
def test_every_unit_cancelled_and_refunded_gives_back_exactly_its_price(
    lines: list[tuple[int, int]], delivery: int, steps: list[tuple[int, int, bool]]
) -> None:
    kept = [(index, asked, False) for index, asked, _ in steps]
    refunded, total, charged = _run(lines, delivery, kept)

    cancelled = dict.fromkeys(range(1, len(lines) + 1), 0)
    for index, asked, _ in kept:
        line_id = index % len(lines) + 1
        cancelled[line_id] += min(asked, lines[line_id - 1][0] - cancelled[line_id])
    assert refunded == {i: cancelled[i] * lines[i - 1][1] for i in cancelled}
    # What is left to give back covers every unit still ordered and the delivery.
    still = sum((q - cancelled[i + 1]) * p for i, (q, p) in enumerate(lines))
    assert charged - total == still + delivery
