"""Order totals, delivery dates, the order state machine and retry backoff."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.domain.backoff import backoff
from models.domain.lifecycle import (
    TERMINAL,
    TRANSITIONS,
    DeliveryMethod,
    OrderStatus,
    can_transition,
    next_step,
)
from models.domain.pricing import PricedLine, Totals, delivery_eta, order_totals
from models.services.cancel import CANCELLABLE
from models.services.change_status import allowed_from

COSTS = {"self_service": 0, "curbside": 4900, "in_door": 9900}

# --- pricing ---------------------------------------------------------------------------------


def test_totals_are_the_sum_of_the_lines_plus_the_delivery_cost_in_minor_units() -> None:
    lines = [PricedLine("493.857.51", 3, 1999), PricedLine("802.645.12", 1, 12550)]
    totals = order_totals(lines, "curbside", COSTS)
    assert totals == Totals(subtotal=3 * 1999 + 12550, delivery_cost=4900)
    assert totals.total == 18547 + 4900
    assert all(isinstance(v, int) for v in (totals.subtotal, totals.delivery_cost, totals.total))


@pytest.mark.parametrize(("method", "cost"), COSTS.items())
def test_each_delivery_method_costs_its_own_fixed_amount(method: str, cost: int) -> None:
    totals = order_totals([PricedLine("493.857.51", 1, 1000)], method, COSTS)
    assert totals.delivery_cost == cost
    assert totals.total == 1000 + cost


def test_every_delivery_method_has_a_price_in_the_table() -> None:
    assert set(COSTS) == {m.value for m in DeliveryMethod}


def test_an_unknown_delivery_method_is_refused() -> None:
    with pytest.raises(KeyError):
        order_totals([], "drone", COSTS)


def test_an_order_with_no_lines_costs_only_its_delivery() -> None:
    assert order_totals([], "in_door", COSTS).total == 9900


@given(
    st.lists(st.tuples(st.integers(1, 100), st.integers(0, 10**7)), max_size=20),
    st.sampled_from(sorted(COSTS)),
)
def test_the_total_is_exact_for_any_lines(lines: list[tuple[int, int]], method: str) -> None:
    priced = [PricedLine(f"{i:03d}.000.00", qty, price) for i, (qty, price) in enumerate(lines)]
    totals = order_totals(priced, method, COSTS)
    assert totals.total == sum(qty * price for qty, price in lines) + COSTS[method]


@pytest.mark.parametrize(
    ("placed_at", "days", "expected"),
    [
        (datetime(2024, 3, 10, 12, 0, tzinfo=UTC), 3, date(2024, 3, 13)),
        (datetime(2024, 1, 30, 9, 0, tzinfo=UTC), 3, date(2024, 2, 2)),  # month boundary
        (datetime(2024, 2, 27, 9, 0, tzinfo=UTC), 3, date(2024, 3, 1)),  # leap February
        (datetime(2023, 2, 27, 9, 0, tzinfo=UTC), 3, date(2023, 3, 2)),  # common February
        (datetime(2024, 12, 30, 23, 59, tzinfo=UTC), 3, date(2025, 1, 2)),  # year boundary
        (datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), 0, date(2024, 12, 31)),
    ],
)
def test_the_delivery_date_is_a_fixed_number_of_days_after_the_order(
    placed_at: datetime, days: int, expected: date
) -> None:
    assert delivery_eta(placed_at, days) == expected


def test_the_delivery_date_is_counted_in_utc_whatever_offset_the_time_carries() -> None:
    # 01:00 on New Year's Day at +02:00 (Helsinki) is still 31 December in UTC.
    placed_at = datetime(2025, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert delivery_eta(placed_at, 3) == date(2025, 1, 3)


def test_a_naive_order_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        delivery_eta(datetime(2025, 1, 1, 1, 0), 3)


# --- lifecycle -------------------------------------------------------------------------------

ALLOWED = [
    (OrderStatus.RECEIVED, OrderStatus.ALLOCATED),
    (OrderStatus.RECEIVED, OrderStatus.BACKORDERED),
    (OrderStatus.BACKORDERED, OrderStatus.ALLOCATED),
    (OrderStatus.BACKORDERED, OrderStatus.CANCELLED),
    (OrderStatus.RECEIVED, OrderStatus.REJECTED),
    (OrderStatus.RECEIVED, OrderStatus.CANCELLED),
    (OrderStatus.ALLOCATED, OrderStatus.PAID),
    (OrderStatus.ALLOCATED, OrderStatus.PAYMENT_FAILED),
    (OrderStatus.ALLOCATED, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.SHIPPED),
    (OrderStatus.PAID, OrderStatus.CANCELLED),
    (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
    (OrderStatus.PAID, OrderStatus.READY_FOR_PICKUP),
    (OrderStatus.READY_FOR_PICKUP, OrderStatus.COLLECTED),
    (OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED),
    (OrderStatus.PAID, OrderStatus.PARTIALLY_SHIPPED),
    (OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED),
    (OrderStatus.ALLOCATED, OrderStatus.ON_HOLD),
    (OrderStatus.ON_HOLD, OrderStatus.ALLOCATED),
    (OrderStatus.PAID, OrderStatus.ON_HOLD),  # its authorisation lapsed before the capture
    (OrderStatus.ON_HOLD, OrderStatus.CANCELLED),
]


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_each_allowed_transition_is_allowed(current: OrderStatus, target: OrderStatus) -> None:
    assert can_transition(current, target)


@pytest.mark.parametrize("current", list(OrderStatus))
@pytest.mark.parametrize("target", list(OrderStatus))
def test_every_other_transition_is_refused(current: OrderStatus, target: OrderStatus) -> None:
    assert can_transition(current, target) == ((current, target) in ALLOWED)


def test_the_terminal_statuses_are_the_ones_with_no_way_out() -> None:
    assert {
        OrderStatus.DELIVERED,
        OrderStatus.COLLECTED,
        OrderStatus.REJECTED,
        OrderStatus.PAYMENT_FAILED,
        OrderStatus.CANCELLED,
    } == TERMINAL
    assert all(not TRANSITIONS[status] for status in TERMINAL)
    assert set(TRANSITIONS) == set(OrderStatus)


def test_an_order_cannot_be_cancelled_once_shipped() -> None:
    assert not can_transition(OrderStatus.SHIPPED, OrderStatus.CANCELLED)


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (OrderStatus.RECEIVED, "allocate"),
        (OrderStatus.ALLOCATED, "charge"),
        (OrderStatus.PAID, "ship"),
        (OrderStatus.ON_HOLD, None),  # released by a person, or expired
        (OrderStatus.SHIPPED, None),  # delivery is the carrier's doing, not a pipeline step
        *[(status, None) for status in sorted(TERMINAL)],
    ],
)
def test_next_step_names_the_task_that_moves_the_order_on(
    status: OrderStatus, step: str | None
) -> None:
    assert next_step(status) == step


# --- backoff ---------------------------------------------------------------------------------


@given(st.integers(-5, 60), st.floats(0.01, 10), st.floats(0.01, 600), st.integers())
def test_the_wait_is_between_zero_and_the_capped_exponential(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    wait = backoff(attempt, base=base, cap=cap, rng=random.Random(seed))
    assert 0 <= wait <= min(cap, base * 2 ** max(0, attempt))


def test_the_wait_never_exceeds_the_cap_however_many_attempts() -> None:
    rng = random.Random(7)
    waits = [backoff(attempt, cap=60, rng=rng) for attempt in range(6, 40) for _ in range(20)]
    assert max(waits) <= 60
    assert max(waits) > 30  # full jitter over [0, 60] does reach the upper half


def test_a_negative_attempt_counts_as_the_first() -> None:
    assert backoff(-3, base=2, rng=random.Random(1)) == backoff(0, base=2, rng=random.Random(1))
    assert all(backoff(-3, base=2, rng=random.Random(s)) <= 2 for s in range(50))


def test_the_same_seed_gives_the_same_waits() -> None:
    first = [backoff(a, rng=random.Random(42)) for a in range(10)]
    second = [backoff(a, rng=random.Random(42)) for a in range(10)]
    assert first == second
    assert first != [backoff(a, rng=random.Random(43)) for a in range(10)]


def test_a_very_late_attempt_still_waits_at_most_the_cap() -> None:
    assert backoff(1100, cap=60, rng=random.Random(1)) <= 60


def test_a_pickup_order_waits_for_its_customer_with_no_step_to_drive_it() -> None:
    assert next_step(OrderStatus.PAID) == "ship"
    assert next_step(OrderStatus.READY_FOR_PICKUP) is None
    assert OrderStatus.READY_FOR_PICKUP not in TERMINAL


def test_a_pickup_order_can_be_cancelled_until_it_is_collected_and_not_after() -> None:
    assert can_transition(OrderStatus.READY_FOR_PICKUP, OrderStatus.CANCELLED)
    assert not can_transition(OrderStatus.COLLECTED, OrderStatus.CANCELLED)
    assert not can_transition(OrderStatus.READY_FOR_PICKUP, OrderStatus.SHIPPED)


def test_staff_may_collect_or_cancel_a_ready_pickup_order_and_nothing_after() -> None:
    assert allowed_from(OrderStatus.READY_FOR_PICKUP) == ["cancelled", "collected"]
    assert allowed_from(OrderStatus.COLLECTED) == []
    assert OrderStatus.READY_FOR_PICKUP in CANCELLABLE
