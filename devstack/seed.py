"""Demo warehouses, products and stock: `python -m devstack.seed` (safe to run again)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models.services.import_geodata import SWEDEN, import_file
from models.store.db import unit_of_work
from models.tables.catalog import Product, Stock, Warehouse
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

# (code, name, country, postal code, latitude, longitude, allows self-service pickup)
WAREHOUSES: list[tuple[str, str, str, str, float, float, bool]] = [
    ("US-NJ-ELZ", "Elizabeth, NJ", "US", "07201", 40.6612, -74.1724, True),
    ("US-IL-BOL", "Bolingbrook, IL", "US", "60440", 41.6928, -88.0837, True),
    ("US-TX-FTW", "Fort Worth, TX", "US", "76177", 32.9627, -97.3144, False),
    ("US-CA-TEJ", "Tejon Ranch, CA", "US", "93243", 34.8691, -118.8751, True),
    ("US-WA-KEN", "Kent, WA", "US", "98032", 47.3887, -122.2613, True),
    ("SE-ALM", "Älmhult", "SE", "34330", 56.5510, 14.1370, True),
    ("SE-MMA", "Malmö", "SE", "21215", 55.5910, 13.0410, True),
    ("SE-HBG", "Helsingborg", "SE", "25225", 56.0465, 12.6945, False),
]

# Where pickup customers collect at each warehouse: (street address, city); and when.
ADDRESSES = {
    "US-NJ-ELZ": ("1000 Dowd Ave", "Elizabeth, NJ"),
    "US-IL-BOL": ("750 E Boughton Rd", "Bolingbrook, IL"),
    "US-TX-FTW": ("2601 Westport Pkwy", "Fort Worth, TX"),
    "US-CA-TEJ": ("5600 Dennis McCarthy Dr", "Lebec, CA"),
    "US-WA-KEN": ("22200 68th Ave S", "Kent, WA"),
    "SE-ALM": ("Södra Ringvägen 1", "Älmhult"),
    "SE-MMA": ("Hyllie Boulevard 10", "Malmö"),
    "SE-HBG": ("Brunnsgatan 3", "Helsingborg"),
}
OPENING_HOURS = "Mon-Fri 10-20, Sat-Sun 10-18"

# Units per product per warehouse. No warehouse holds 100 of anything, so the demo's
# oversized orders find no stock, and Kent runs short early so some orders travel further.
STOCK_UNITS = {
    "US-NJ-ELZ": 90,
    "US-IL-BOL": 90,
    "US-TX-FTW": 80,
    "US-CA-TEJ": 80,
    "US-WA-KEN": 20,
    "SE-ALM": 60,
    "SE-MMA": 40,
    "SE-HBG": 40,
}
# A product that runs out during a demo: orders that want it after that ship their other
# lines and wait for it (partial fulfilment under `make run`), or wait whole for it.
SCARCE_UNITS = {"402.934.30": 8}


def seed(session: Session, currency: str) -> None:
    """Insert the demo catalogue; rows that exist are left as they are."""
    _seed_products(session, currency)
    _seed_warehouses(session)
    _seed_stock(session)
    import_file(session, SWEDEN)


def _seed_products(session: Session, currency: str) -> None:
    """The demo products, priced in the configured currency."""
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


def _seed_warehouses(session: Session) -> None:
    """The demo warehouses, all active; one seeded before addresses is given its address."""
    rows = insert(Warehouse)
    session.execute(
        rows.values(
            [
                {
                    "code": code,
                    "name": name,
                    "postal_code": postal_code,
                    "country": country,
                    "latitude": lat,
                    "longitude": lon,
                    "active": True,
                    "allows_self_service": pickup,
                    "address_line1": ADDRESSES[code][0],
                    "city": ADDRESSES[code][1],
                    "opening_hours": OPENING_HOURS,
                }
                for code, name, country, postal_code, lat, lon, pickup in WAREHOUSES
            ]
        ).on_conflict_do_update(
            index_elements=["code"],
            set_={
                "address_line1": rows.excluded.address_line1,
                "city": rows.excluded.city,
                "opening_hours": rows.excluded.opening_hours,
            },
            where=Warehouse.address_line1.is_(None),
        )
    )


def _seed_stock(session: Session) -> None:
    """Every product on the shelves of every warehouse, none of it reserved."""
    ids = dict(session.execute(select(Warehouse.code, Warehouse.id)).all())
    session.execute(
        insert(Stock)
        .values(
            [
                {
                    "warehouse_id": ids[code],
                    "article_number": article,
                    "on_hand": min(units, SCARCE_UNITS.get(article, units)),
                    "reserved": 0,
                }
                for code, units in STOCK_UNITS.items()
                for article, _, _ in PRODUCTS
            ]
        )
        .on_conflict_do_nothing()
    )


def main() -> None:
    """Seed the configured database."""
    settings = get_settings()
    with unit_of_work(settings.require_database_url()) as session:
        seed(session, settings.currency)
    print(f"seeded {len(PRODUCTS)} products, {len(WAREHOUSES)} warehouses")


if __name__ == "__main__":
    main()
