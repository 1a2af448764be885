"""The demo's order generator and summary, without a network."""

from __future__ import annotations

import random
from typing import Any

from devstack.demo import FINAL_STATUSES, Outcome, Tracked, parse_args, percentile, summarise
from devstack.demo_orders import (
    CITIES,
    DECLINED_CARD,
    OVERSIZED_QUANTITY,
    build_order,
    held_order,
    two_line_order,
)
from intake.schemas import validate_order
from models.domain.holds import HoldReason, HoldRules, OrderFacts, decide
from settings import Settings

ARTICLES = ["493.857.51", "802.645.12", "104.211.90", "391.004.77"]
LIMITS = Settings.model_fields


def orders(count: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [build_order(rng, ARTICLES) for _ in range(count)]


def test_the_same_seed_builds_the_same_orders() -> None:
    assert orders(50, seed=3) == orders(50, seed=3)
    assert orders(50, seed=3) != orders(50, seed=4)


def test_every_sample_order_passes_the_intake_validation() -> None:
    for order in orders(300):
        validate_order(
            order,
            max_line_quantity=LIMITS["max_line_quantity"].default,
            max_order_lines=LIMITS["max_order_lines"].default,
        )


def test_an_order_has_one_to_three_distinct_lines() -> None:
    for order in orders(300):
        articles = [line["article_number"] for line in order["lines"]]
        assert 1 <= len(articles) <= 3
        assert len(set(articles)) == len(articles)


def test_a_few_orders_are_meant_to_be_declined_or_rejected() -> None:
    sample = orders(2000)
    declined = sum(order["payment_method"] == DECLINED_CARD for order in sample)
    oversized = sum(
        any(line["quantity"] == OVERSIZED_QUANTITY for line in order["lines"]) for order in sample
    )
    assert 0.02 < declined / len(sample) < 0.09
    assert 0.01 < oversized / len(sample) < 0.06


def test_the_orders_spread_over_cities_and_delivery_methods() -> None:
    sample = orders(300)
    assert len({order["shipping_address"]["postal_code"] for order in sample}) == len(CITIES)
    assert {order["shipping_address"]["country"] for order in sample} == {"US", "SE"}
    assert {order["delivery_method"] for order in sample} == {"self_service", "curbside", "in_door"}


def _country_hold(order: dict[str, Any]) -> HoldReason | None:
    facts = OrderFacts(
        total=1000,
        currency="USD",
        ship_country=order["shipping_address"]["country"],
        payment_method=order["payment_method"],
        recent_orders=1,
        exact_address=True,
    )
    held = decide(HoldRules(country_mismatch=True), facts)
    return held.reason if held else None


def test_only_the_orders_meant_to_be_held_trip_the_country_rule_make_run_turns_on() -> None:
    rng = random.Random(5)
    ordinary = [*orders(300), *(two_line_order(rng, ARTICLES) for _ in range(50))]
    meant = [held_order(rng, ARTICLES) for _ in range(20)]

    assert [order for order in ordinary if _country_hold(order)] == []
    assert {_country_hold(order) for order in meant} == {HoldReason.COUNTRY_MISMATCH}
    for order in meant:
        validate_order(
            order,
            max_line_quantity=LIMITS["max_line_quantity"].default,
            max_order_lines=LIMITS["max_order_lines"].default,
        )


def test_the_percentile_is_the_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_the_summary_counts_outcomes_most_common_first_with_latencies() -> None:
    outcomes = [
        Outcome("shipped", 0.010, 2.0),
        Outcome("shipped", 0.030, 4.0),
        Outcome("payment_failed", 0.020),
        Outcome("timed out (paid)", 0.040),
        Outcome("shipped", 0.020, 3.0),
    ]
    rows = summarise(outcomes)
    assert rows[:3] == [("shipped", "3"), ("payment_failed", "1"), ("timed out (paid)", "1")]
    assert ("total", "5") in rows
    assert ("POST latency p50 / p95", "20 ms / 40 ms") in rows
    assert ("time to shipped p50 / p95", "3.0 s / 4.0 s") in rows


def test_the_summary_of_nothing_says_so_instead_of_failing() -> None:
    assert summarise([])[-2:] == [
        ("POST latency p50 / p95", "-"),
        ("time to shipped p50 / p95", "-"),
    ]


def test_an_order_still_moving_at_the_deadline_says_where_it_stopped() -> None:
    assert Tracked(0.0, "allocated").outcome().status == "timed out (allocated)"
    assert Tracked(0.0, "shipped", final=True).outcome().status == "shipped"


def test_shipped_or_ready_for_pickup_ends_the_watch_but_received_does_not() -> None:
    waiting = {"shipped", "ready_for_pickup", "partially_shipped", "backordered"}
    final = {"delivered", "collected", "rejected", "payment_failed", "cancelled"}
    assert waiting | final == FINAL_STATUSES
    assert "received" not in FINAL_STATUSES


def test_the_command_line_has_sensible_defaults() -> None:
    args = parse_args(["--base-url", "http://127.0.0.1:8000/"])
    assert args.base_url == "http://127.0.0.1:8000"
    assert (args.orders, args.concurrency, args.timeout) == (300, 16, 120.0)
