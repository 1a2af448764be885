"""The hold rules as pure functions: which rule fires, in what order, and the card's country."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from models.domain.holds import (
    SHOPIFY_REASON,
    HoldReason,
    HoldRules,
    OrderFacts,
    card_country,
    decide,
)
from models.services.holds import rules_from
from settings import Settings

FACTS = OrderFacts(
    total=12000,
    currency="USD",
    ship_country="US",
    payment_method="pm_card_visa",
    recent_orders=1,
    exact_address=True,
)


def test_with_every_rule_off_nothing_is_held() -> None:
    risky = replace(FACTS, total=10**9, payment_method="pm_card_se", recent_orders=99)

    assert not HoldRules().any
    assert decide(HoldRules(), replace(risky, exact_address=False)) is None


@pytest.mark.parametrize(
    ("rules", "facts", "reason"),
    [
        (HoldRules(amount_above=11999), FACTS, HoldReason.AMOUNT_OVER_THRESHOLD),
        (
            HoldRules(country_mismatch=True),
            replace(FACTS, payment_method="pm_card_gb"),
            HoldReason.COUNTRY_MISMATCH,
        ),
        (
            HoldRules(orders_per_email_hour=3),
            replace(FACTS, recent_orders=4),
            HoldReason.TOO_MANY_ORDERS,
        ),
        (
            HoldRules(imprecise_address=True),
            replace(FACTS, exact_address=False),
            HoldReason.IMPRECISE_ADDRESS,
        ),
    ],
)
def test_each_rule_holds_with_its_reason_and_a_note(
    rules: HoldRules, facts: OrderFacts, reason: HoldReason
) -> None:
    held = decide(rules, facts)

    assert rules.any
    assert held is not None
    assert held.reason is reason
    assert held.note


@pytest.mark.parametrize(
    ("rules", "facts"),
    [
        (HoldRules(amount_above=12000), FACTS),  # at the threshold is not above it
        (HoldRules(country_mismatch=True), replace(FACTS, payment_method="pm_card_us")),
        # A real token does not say where the card is from: the rule cannot fire on it.
        (HoldRules(country_mismatch=True), replace(FACTS, payment_method="pm_1PqRsTuVwXyZ")),
        (HoldRules(orders_per_email_hour=3), replace(FACTS, recent_orders=3)),
        (HoldRules(imprecise_address=True), FACTS),
    ],
)
def test_a_rule_on_the_right_side_of_its_limit_holds_nothing(
    rules: HoldRules, facts: OrderFacts
) -> None:
    assert decide(rules, facts) is None


def test_the_first_rule_that_fires_names_the_hold() -> None:
    rules = HoldRules(amount_above=1, country_mismatch=True, imprecise_address=True)
    facts = replace(FACTS, payment_method="pm_card_se", exact_address=False)

    held = decide(rules, facts)

    assert held is not None
    assert held.reason is HoldReason.AMOUNT_OVER_THRESHOLD
    assert held.note == "total 12000 USD is over 1"


@pytest.mark.parametrize(
    ("method", "country"),
    [
        ("pm_card_se", "SE"),
        ("pm_card_gb", "GB"),
        ("pm_card_visa", "US"),
        ("pm_card_mastercard", "US"),
        ("pm_1PqRsTuVwXyZ", None),
        ("tok_visa", None),
    ],
)
def test_the_card_country_is_read_from_the_token_where_it_says(
    method: str, country: str | None
) -> None:
    assert card_country(method) == country


def test_every_reason_maps_onto_a_shopify_hold_reason_and_a_hold_lasts_its_hours() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)

    assert set(SHOPIFY_REASON) == set(HoldReason)
    assert HoldRules(reservation_hours=5).hold_until(now) == now + timedelta(hours=5)


def test_the_settings_turn_the_rules_on_and_leave_them_off_by_default() -> None:
    assert rules_from(Settings()) == HoldRules()
    on = Settings(
        hold_amount_above=50000,
        hold_country_mismatch=True,
        hold_orders_per_email_hour=3,
        hold_imprecise_address=True,
        hold_reservation_hours=24,
    )

    assert rules_from(on) == HoldRules(50000, True, 3, True, 24)
