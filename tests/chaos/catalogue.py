"""The run's catalogue, set up through the admin API: ample stock, a scarce item, a split pair."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Site:
    """A warehouse placed by its coordinates, so no postal-code lookup can fail the seeding."""

    code: str
    name: str
    country: str
    postal_code: str
    latitude: float
    longitude: float


SITES = (
    Site("CH-US-NJ", "Elizabeth, NJ", "US", "07201", 40.6612, -74.1724),
    Site("CH-US-IL", "Bolingbrook, IL", "US", "60440", 41.6928, -88.0837),
    Site("CH-US-CA", "Tejon Ranch, CA", "US", "93243", 34.8691, -118.8751),
    Site("CH-SE-ALM", "Älmhult", "SE", "343 30", 56.5510, 14.1370),
    Site("CH-SE-MMA", "Malmö", "SE", "212 15", 55.5910, 13.0410),
)

# (article number, name, price in cents)
AMPLE = (
    ("811.100.01", "Chaos bookcase", 6999),
    ("811.100.02", "Chaos armchair", 12900),
    ("811.100.03", "Chaos side table", 1499),
    ("811.100.04", "Chaos desk", 8999),
    ("811.100.05", "Chaos lamp", 2499),
)
SCARCE = ("811.200.01", "Chaos limited edition sofa", 64900)
# Each half of the pair is stocked in one warehouse only, so an order for both always splits.
SPLIT_A = ("811.300.01", "Chaos bed frame", 29900)
SPLIT_B = ("811.300.02", "Chaos mattress", 24900)

AMPLE_UNITS = {
    "CH-US-NJ": 400,
    "CH-US-IL": 400,
    "CH-US-CA": 400,
    "CH-SE-ALM": 250,
    "CH-SE-MMA": 250,
}
# Little of it, split over two warehouses: concurrent orders split it and the rest are refused.
SCARCE_UNITS = {"CH-US-NJ": 7, "CH-US-IL": 6}
SPLIT_UNITS = {SPLIT_A[0]: {"CH-US-NJ": 300}, SPLIT_B[0]: {"CH-US-IL": 300}}


def seeded_stock() -> dict[tuple[str, str], int]:
    """Units on hand per (warehouse code, article number) once the catalogue is set up."""
    stock = {(code, article): units for code, units in AMPLE_UNITS.items() for article, *_ in AMPLE}
    stock |= {(code, SCARCE[0]): units for code, units in SCARCE_UNITS.items()}
    for article, placed in SPLIT_UNITS.items():
        stock |= {(code, article): units for code, units in placed.items()}
    return stock


def set_up(api: str, admin_token: str) -> dict[tuple[str, str], int]:
    """Create the warehouses, products and stock; the units seeded per (warehouse, article)."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with requests.Session() as http:
        http.headers.update(headers)
        for site in SITES:
            _send(http, "POST", f"{api}/admin/warehouses", _warehouse(site))
        for article, name, price in (*AMPLE, SCARCE, SPLIT_A, SPLIT_B):
            _send(http, "PUT", f"{api}/admin/products/{article}", {"name": name, "price": price})
        stock = seeded_stock()
        for (code, article), units in sorted(stock.items()):
            body = {"on_hand": units, "reason": "chaos run: initial stock"}
            _send(http, "PUT", f"{api}/admin/stock/{code}/{article}", body)
    return stock


def _warehouse(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "country": site.country,
        "postal_code": site.postal_code,
        "latitude": site.latitude,
        "longitude": site.longitude,
    }


def _send(http: requests.Session, method: str, url: str, body: dict[str, Any]) -> None:
    response = http.request(method, url, json=body, timeout=REQUEST_TIMEOUT)
    if not response.ok:
        raise RuntimeError(f"{method} {url} answered {response.status_code}: {response.text}")
