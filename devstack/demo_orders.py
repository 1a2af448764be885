"""The demo's sample orders: plausible guests, now and then one meant to fail."""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from typing import Any

from models.domain.lifecycle import DeliveryMethod
from settings import Settings

# (postal code, city, region, country); the Swedish ones are served by the Swedish warehouses.
CITIES = [
    ("10001", "New York", "NY", "US"),
    ("60601", "Chicago", "IL", "US"),
    ("94103", "San Francisco", "CA", "US"),
    ("98101", "Seattle", "WA", "US"),
    ("73301", "Austin", "TX", "US"),
    ("33101", "Miami", "FL", "US"),
    ("80202", "Denver", "CO", "US"),
    ("02108", "Boston", "MA", "US"),
    ("211 19", "Malmö", "Skåne", "SE"),
    ("252 25", "Helsingborg", "Skåne", "SE"),
    ("343 30", "Älmhult", "Kronoberg", "SE"),
    ("411 03", "Göteborg", "Västra Götaland", "SE"),
]
STREETS = ["Main Street", "Oak Avenue", "Maple Drive", "Cedar Lane", "Elm Street", "Park Place"]
FIRST_NAMES = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov"]

GOOD_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"
# A card issued in Great Britain: on an order shipping to the US, HOLD_COUNTRY_MISMATCH (on
# under `make run`) holds it for review before it is charged.
FOREIGN_CARD = "pm_card_gb"
DECLINED_SHARE = 0.05
OVERSIZED_SHARE = 0.03
# The most the intake accepts on one line, so validation lets it through and allocation
# decides: such orders drain stock fast, and are rejected once no warehouse holds that many.
OVERSIZED_QUANTITY = int(Settings.model_fields["max_line_quantity"].default)


def _seed() -> Any:
    """The seed, imported late so the helpers work without it."""
    return importlib.import_module("devstack.seed")


def catalogue() -> list[str]:
    """Article numbers of the seeded products."""
    products: list[tuple[str, str, int]] = _seed().PRODUCTS
    return [article for article, _name, _price in products]


def card_for(country: str) -> str:
    """A good card issued where the order ships, so the country rule lets it pass: Stripe's
    generic test cards are US cards, its country cards (`pm_card_se`) say their country."""
    return GOOD_CARD if country == "US" else f"pm_card_{country.lower()}"


def build_order(rng: random.Random, articles: Sequence[str]) -> dict[str, Any]:
    """A plausible guest order drawn from `rng`, now and then one meant to fail."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    postal_code, city, region, country = rng.choice(CITIES)
    chosen = rng.sample(list(articles), rng.randint(1, min(3, len(articles))))
    lines = [{"article_number": article, "quantity": rng.randint(1, 3)} for article in chosen]
    if rng.random() < OVERSIZED_SHARE:
        lines[0]["quantity"] = OVERSIZED_QUANTITY
    address = {
        "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "postal_code": postal_code,
        "country": country,
    }
    if rng.random() < 0.3:
        address["line2"] = f"Apt {rng.randint(1, 40)}"
    if rng.random() < 0.8:
        address["region"] = region
    return {
        "customer": {
            "email": f"{first}.{last}.{rng.randrange(10**6):06d}@example.com".lower(),
            "name": f"{first} {last}",
        },
        "shipping_address": address,
        "delivery_method": str(rng.choice(list(DeliveryMethod))),
        # Stripe's declining cards are US cards: abroad one would be held for its country.
        "payment_method": DECLINED_CARD
        if rng.random() < DECLINED_SHARE and country == "US"
        else card_for(country),
        "lines": lines,
    }


def two_line_order(rng: random.Random, articles: Sequence[str]) -> dict[str, Any]:
    """A good pickup order of two lines, two units each: it waits at its warehouse until it is
    collected, so one unit of its first line can be cancelled (and refunded) whenever the
    demo gets to it, and the order still stands."""
    order = build_order(rng, articles)
    chosen = rng.sample(list(articles), min(2, len(articles)))
    order["lines"] = [{"article_number": article, "quantity": 2} for article in chosen]
    order["payment_method"] = card_for(order["shipping_address"]["country"])
    order["delivery_method"] = str(DeliveryMethod.SELF_SERVICE)
    return order


def held_order(rng: random.Random, articles: Sequence[str]) -> dict[str, Any]:
    """One unit delivered to a US address and paid with a British card: held for review."""
    order = build_order(rng, articles)
    postal_code, city, region, country = rng.choice([c for c in CITIES if c[3] == "US"])
    order["shipping_address"] = {
        "line1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "city": city,
        "postal_code": postal_code,
        "region": region,
        "country": country,
    }
    plentiful = [a for a in articles if a not in _seed().SCARCE_UNITS] or list(articles)
    order["lines"] = [{"article_number": rng.choice(plentiful), "quantity": 1}]
    order["payment_method"] = FOREIGN_CARD
    order["delivery_method"] = str(DeliveryMethod.CURBSIDE)
    return order
