"""Holds: the rules that stop an order for review before it is charged, and why.

The reasons follow Shopify's fulfilment hold reasons (a risk of fraud, an incorrect address,
other), named for the rule that fired. A rule left unset is off. Every rule is decided from
what we know before the gateway is called: the card's country comes from the payment method
token itself (see `card_country`), never from a call made while deciding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class HoldReason(StrEnum):
    """Why an order is held."""

    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"
    COUNTRY_MISMATCH = "country_mismatch"
    TOO_MANY_ORDERS = "too_many_orders"
    IMPRECISE_ADDRESS = "imprecise_address"
    # Paid by an authorisation that lapsed (or could not be renewed) before it was captured:
    # a release charges the card again.
    AUTHORIZATION_LAPSED = "authorization_lapsed"
    # Held by a person, for a reason of their own (Shopify's `other`).
    OTHER = "other"


# Shopify's hold reason each of ours falls under, for whoever maps one onto the other.
SHOPIFY_REASON = {
    HoldReason.AMOUNT_OVER_THRESHOLD: "high_risk_of_fraud",
    HoldReason.COUNTRY_MISMATCH: "high_risk_of_fraud",
    HoldReason.TOO_MANY_ORDERS: "high_risk_of_fraud",
    HoldReason.IMPRECISE_ADDRESS: "incorrect_address",
    HoldReason.AUTHORIZATION_LAPSED: "awaiting_payment",
    HoldReason.OTHER: "other",
}

# Who cancels a held order nobody released in time, or an order stuck before payment, as the
# order's timeline records it (the cancelled mail tells the customer why).
RESERVATION_EXPIRY_ACTOR = "system (reservation expired)"
NOT_RELEASED = "not released in time"
NOT_PAID = "not paid in time"

# Stripe's country test cards are `pm_card_<country>` (pm_card_se, pm_card_gb, ...); its
# generic cards (pm_card_visa, pm_card_mastercard, ...) are issued in the United States.
_COUNTRY_CARD = re.compile(r"^pm_card_([a-z]{2})$")
_US_TEST_CARD = re.compile(r"^pm_card_[A-Za-z]{3,}$")


@dataclass(frozen=True)
class HoldRules:
    """The hold settings; None (or False) turns a rule off."""

    amount_above: int | None = None
    country_mismatch: bool = False
    orders_per_email_hour: int | None = None
    imprecise_address: bool = False
    reservation_hours: int = 72

    @property
    def any(self) -> bool:
        """Whether any rule can hold an order."""
        return (
            self.amount_above is not None
            or self.country_mismatch
            or self.orders_per_email_hour is not None
            or self.imprecise_address
        )

    def hold_until(self, now: datetime) -> datetime:
        """Until when an order held now keeps its stock."""
        return now + timedelta(hours=self.reservation_hours)


@dataclass(frozen=True)
class OrderFacts:
    """What the rules look at. `recent_orders` counts the email's orders in the hour up to this
    one's placing, this one included; `exact_address` is whether the geodata knew the postal
    code itself."""

    total: int
    currency: str
    ship_country: str
    payment_method: str
    recent_orders: int
    exact_address: bool


@dataclass(frozen=True)
class Hold:
    """A decision to hold: the reason, and a line a person reads."""

    reason: HoldReason
    note: str


def card_country(payment_method: str) -> str | None:
    """The issuing country of a card, where its token says it; None where only the gateway
    knows (a real `pm_...` token: its country is known once it has been retrieved)."""
    if found := _COUNTRY_CARD.match(payment_method):
        return found.group(1).upper()
    return "US" if _US_TEST_CARD.match(payment_method) else None


def decide(rules: HoldRules, facts: OrderFacts) -> Hold | None:
    """The first rule that holds the order, or None: amount, country, orders, address."""
    if rules.amount_above is not None and facts.total > rules.amount_above:
        return Hold(
            HoldReason.AMOUNT_OVER_THRESHOLD,
            f"total {facts.total} {facts.currency} is over {rules.amount_above}",
        )
    country = card_country(facts.payment_method)
    if rules.country_mismatch and country is not None and country != facts.ship_country:
        return Hold(
            HoldReason.COUNTRY_MISMATCH,
            f"card issued in {country}, shipping to {facts.ship_country}",
        )
    limit = rules.orders_per_email_hour
    if limit is not None and facts.recent_orders > limit:
        return Hold(
            HoldReason.TOO_MANY_ORDERS,
            f"{facts.recent_orders} orders from this email in an hour (limit {limit})",
        )
    if rules.imprecise_address and not facts.exact_address:
        return Hold(
            HoldReason.IMPRECISE_ADDRESS,
            "the postal code was placed only by a nearby code sharing its prefix",
        )
    return None
