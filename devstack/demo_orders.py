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
DECLINED_SHARE = 0.05
OVERSIZED_SHARE = 0.03
# The most the intake accepts on one line, so validation lets it through and allocation
# decides: such orders drain stock fast, and are rejected once no warehouse holds that many.
OVERSIZED_QUANTITY = int(Settings.model_fields["max_line_quantity"].default)


def catalogue() -> list[str]:
    """Article numbers of the seeded products, imported late so the helpers work without it."""
    seed = importlib.import_module("devstack.seed")
    products: list[tuple[str, str, int]] = seed.PRODUCTS
    return [article for article, _name, _price in products]


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
        "payment_method": DECLINED_CARD if rng.random() < DECLINED_SHARE else GOOD_CARD,
        "lines": lines,
    }


def two_line_order(rng: random.Random, articles: Sequence[str]) -> dict[str, Any]:
    """A good order of two lines, two units each: one unit of its first line can be cancelled
    and the order still stands."""
    order = build_order(rng, articles)
    chosen = rng.sample(list(articles), min(2, len(articles)))
    order["lines"] = [{"article_number": article, "quantity": 2} for article in chosen]
    order["payment_method"] = GOOD_CARD
    order["delivery_method"] = str(DeliveryMethod.CURBSIDE)
    return order
