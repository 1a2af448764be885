"""Demo warehouses, products and stock: `python -m devstack.seed` (safe to run again)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.catalog import Product, Stock, Warehouse
from models.db import unit_of_work
from models.geonames import SWEDEN, import_file
from settings import get_settings

# (article number, name, price in cents)
PRODUCTS: list[tuple[str, str, int]] = [
    ("493.857.51", "MALM bed frame, queen", 29900),
    ("704.894.50", "MALM bed frame, twin", 19900),
    ("604.894.55", "VESTERÖY pocket spring mattress", 24900),
    ("002.638.50", "BILLY bookcase, white", 6999),
    ("802.758.87", "POÄNG armchair, birch veneer", 12900),
    ("104.611.04", "KALLAX shelf unit, 4x4", 12999),
    ("203.011.11", "LACK side table, black", 1499),
    ("903.604.71", "HEMNES 8-drawer dresser", 39900),
    ("402.934.30", "EKTORP sofa, Hallarp beige", 64900),
    ("305.061.94", "LINNMON desk, white", 8999),
]

# (code, name, ZIP, latitude, longitude, allows self-service pickup)
WAREHOUSES: list[tuple[str, str, str, float, float, bool]] = [
    ("US-NJ-ELZ", "Elizabeth, NJ", "07201", 40.6612, -74.1724, True),
    ("US-IL-BOL", "Bolingbrook, IL", "60440", 41.6928, -88.0837, True),
    ("US-TX-FTW", "Fort Worth, TX", "76177", 32.9627, -97.3144, False),
    ("US-CA-TEJ", "Tejon Ranch, CA", "93243", 34.8691, -118.8751, True),
    ("US-WA-KEN", "Kent, WA", "98032", 47.3887, -122.2613, True),
]

# Units per product per warehouse: the Kent warehouse runs short so some orders travel.
STOCK_UNITS = {
    "US-NJ-ELZ": 400,
    "US-IL-BOL": 400,
    "US-TX-FTW": 300,
    "US-CA-TEJ": 300,
    "US-WA-KEN": 20,
}


def seed(session: Session, currency: str) -> None:
    """Insert the demo catalogue; rows that exist are left as they are."""
    session.execute(
        insert(Product)
        .values(
            [
                {"article_number": a, "name": n, "price": p, "currency": currency}
                for a, n, p in PRODUCTS
            ]
        )
        .on_conflict_do_nothing()
    )
    session.execute(
        insert(Warehouse)
        .values(
            [
                {
                    "code": code,
                    "name": name,
                    "postal_code": zip_code,
                    "country": "US",
                    "latitude": lat,
                    "longitude": lon,
                    "active": True,
                    "allows_self_service": pickup,
                }
                for code, name, zip_code, lat, lon, pickup in WAREHOUSES
            ]
        )
        .on_conflict_do_nothing(index_elements=["code"])
    )
    ids = dict(session.execute(select(Warehouse.code, Warehouse.id)).all())
    session.execute(
        insert(Stock)
        .values(
            [
                {
                    "warehouse_id": ids[code],
                    "article_number": article,
                    "on_hand": units,
                    "reserved": 0,
                }
                for code, units in STOCK_UNITS.items()
                for article, _, _ in PRODUCTS
            ]
        )
        .on_conflict_do_nothing()
    )
    import_file(session, SWEDEN)


def main() -> None:
    """Seed the configured database."""
    settings = get_settings()
    with unit_of_work(settings.require_database_url()) as session:
        seed(session, settings.currency)
    print(f"seeded {len(PRODUCTS)} products, {len(WAREHOUSES)} warehouses")


if __name__ == "__main__":
    main()
