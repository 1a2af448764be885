"""Bulk-loaded data for the end-to-end benchmarks: the catalogue, and orders already stored.

Stored orders are shipped ones with everything a real one leaves behind: lines, timeline,
follow-ups marked done, sent mails, a payment, a shipment, allocations and a receipt. Rows
go in with COPY; the ids the rows point at are chosen here, and the sequences moved past them.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql

from bench import support
from bench.allocation import article_number, us_point
from bench.traffic import Place

PRODUCTS = 20
PRICE = 1999
DELIVERY = 4900
# Every article in every warehouse, more than any run can sell: no order is short.
UNITS = 10_000_000
STORED_DAYS = 30
BATCH = 10_000
Row = tuple[Any, ...]
Tables = dict[str, list[str]]
COLUMNS = {
    "warehouse": "id code name postal_code country latitude longitude active allows_self_service"
    " created_at",
    "product": "article_number name price currency created_at",
    "stock": "warehouse_id article_number on_hand reserved updated_at",
    "order": "id status customer_email customer_name guest_token_hash ship_line1 ship_city"
    " ship_postal_code ship_country ship_latitude ship_longitude delivery_method payment_method"
    " currency subtotal delivery_cost total eta created_at updated_at dispatched_at",
    "order_line": "id order_id line_no article_number quantity unit_price",
    "order_event": "order_id kind from_status to_status detail created_at",
    "outbox": "topic message_key payload dedupe_key created_at due_at published_at done_at"
    " attempts",
    "notification": "order_id kind dedupe_key recipient message_id status attempts sent_at"
    " created_at",
    "payment": "order_id idempotency_key gateway_id status amount currency attempts created_at"
    " updated_at",
    "shipment": "order_id warehouse_id carrier tracking_number tracking_url status eta created_at",
    "allocation": "order_id order_line_id warehouse_id article_number quantity shipped_at"
    " created_at",
    "allocation_receipt": "order_id outcome reason candidates picks created_at",
}
MAILS = ("received", "paid", "shipped")
TASKS = (
    ("fulfillment.notify", "received"),
    ("fulfillment.allocate", None),
    ("fulfillment.charge", None),
    ("fulfillment.notify", "paid"),
    ("fulfillment.ship", None),
    ("fulfillment.notify", "shipped"),
)


def seed_catalogue(url: str, warehouses: int, rng: random.Random) -> list[str]:
    """`warehouses` warehouses across the US, each stocking every product; the articles."""
    now = datetime.now(UTC)
    articles = [article_number(i) for i in range(PRODUCTS)]
    sites = []
    for i in range(1, warehouses + 1):
        point = us_point(rng)
        code = f"BW{i:04d}"
        sites.append((i, code, code, "00000", "US", point.latitude, point.longitude, True, True))
    with support.connect(url) as connection:
        _copy(connection, "warehouse", ((*site, now) for site in sites))
        _copy(connection, "product", ((a, f"Article {a}", PRICE, "USD", now) for a in articles))
        stock = ((w, a, UNITS, 0, now) for w in range(1, warehouses + 1) for a in articles)
        _copy(connection, "stock", stock)
        _move_sequence(connection, "warehouse")
    return articles


def preload_orders(
    url: str, count: int, articles: Sequence[str], places: Sequence[Place], rng: random.Random
) -> None:
    """`count` shipped orders with every row they leave behind, over the last month."""
    with support.connect(url) as connection, ThreadPoolExecutor(1) as copier:
        row = connection.execute("SELECT count(*) FROM warehouse").fetchone()
        warehouses = int(row[0]) if row else 1
        line_id = 0
        copying: Future[None] | None = None
        for start in range(0, count, BATCH):
            tables: Tables = {}
            for _ in range(min(BATCH, count - start)):
                line_id = _rows(_stored(rng, articles, places, warehouses), line_id, tables)
            # The server loads one batch while this thread makes the next.
            if copying is not None:
                copying.result()
            copying = copier.submit(_copy_batch, connection, tables)
        if copying is not None:
            copying.result()
        _move_sequence(connection, "order_line")
    support.vacuum_analyze(url)


def _copy_batch(connection: Any, tables: Tables) -> None:
    for table, lines in tables.items():
        _copy_lines(connection, table, lines)
    connection.commit()


def _stored(
    rng: random.Random, articles: Sequence[str], places: Sequence[Place], warehouses: int
) -> dict[str, Any]:
    """One stored order's facts, from which every row of it is made."""
    wanted = rng.sample(list(articles), rng.randint(1, 3))
    at = datetime.now(UTC) - timedelta(seconds=rng.uniform(3600, STORED_DAYS * 86400))
    return {
        # Text already: each id goes into a dozen rows.
        "id": str(uuid.uuid4()),
        "at": at,
        "place": rng.choice(places),
        "lines": [(article, rng.randint(1, 2)) for article in wanted],
        "warehouse": rng.randint(1, warehouses),
        "email": f"stored-{rng.randrange(10**9)}@example.com",
    }


def _add(tables: Tables, table: str, rows: Iterable[Row]) -> None:
    """Rows as lines of COPY's text format: tab-separated, NULL as \\N."""
    lines = tables.setdefault(table, [])
    for row in rows:
        lines.append("\t".join(r"\N" if v is None else str(v) for v in row) + "\n")


def _rows(order: dict[str, Any], line_id: int, tables: Tables) -> int:
    """Add the order's rows to `tables`; the last order-line id used."""
    oid, at, place = order["id"], order["at"], order["place"]
    subtotal = PRICE * sum(quantity for _, quantity in order["lines"])
    who = (order["email"], "Stored Customer", "0" * 64)
    where = ("1 Main Street", place.city, place.postal_code, "US", place.latitude, place.longitude)
    money = ("curbside", "pm_card_visa", "USD", subtotal, DELIVERY, subtotal + DELIVERY)
    times = (at.date(), at, at + timedelta(seconds=3), at + timedelta(seconds=1))
    order_row = (oid, "shipped", *who, *where, *money, *times)
    _add(tables, "order", [order_row])
    for line_no, (article, quantity) in enumerate(order["lines"], start=1):
        line_id += 1
        _add(tables, "order_line", [(line_id, oid, line_no, article, quantity, PRICE)])
        _add(tables, "allocation", [(oid, line_id, order["warehouse"], article, quantity, at, at)])
    _add(tables, "order_event", _events(oid, at, subtotal))
    _add(tables, "outbox", _follow_ups(oid, at))
    mails = (
        (oid, kind, f"{oid}:{kind}", order["email"], f"<{kind}.{oid}@fulfillment.example>", "sent")
        for kind in MAILS
    )
    _add(tables, "notification", ((*mail, 1, at, at) for mail in mails))
    _money_and_parcel(order, subtotal, tables)
    return line_id


def _events(oid: str, at: datetime, subtotal: int) -> Iterator[Row]:
    # JSON written out by hand: json.dumps was most of the time a preload took.
    steps = [
        ("received", None, "received", f'{{"total": {subtotal + DELIVERY}, "currency": "USD"}}'),
        ("dispatched", None, None, "{}"),
        ("notified", None, None, '{"kind": "received"}'),
        ("allocated", "received", "allocated", '{"outcome": "single", "warehouses": ["BW"]}'),
        ("paid", "allocated", "paid", f'{{"payment": "pi_{oid.replace("-", "")[:24]}"}}'),
        ("shipped", "paid", "shipped", f'{{"tracking": ["{_tracking(oid)}"]}}'),
        ("notified", None, None, '{"kind": "paid"}'),
        ("notified", None, None, '{"kind": "shipped"}'),
    ]
    for step, (kind, before, after, detail) in enumerate(steps):
        yield (oid, kind, before, after, detail, at + timedelta(seconds=step * 0.3))


def _follow_ups(oid: str, at: datetime) -> Iterator[Row]:
    placed = f'{{"type": "order.placed", "version": 1, "order_id": "{oid}"}}'
    done = at + timedelta(seconds=1)
    yield ("orders", oid, placed, f"order.placed:{oid}", at, at, at, done, 1)
    for task, kind in TASKS:
        args = [str(oid)] if kind is None else [str(oid), kind]
        quoted = ", ".join(f'"{arg}"' for arg in args)
        payload = f'{{"task": "{task}", "args": [{quoted}]}}'
        yield ("task", oid, payload, ":".join([task, *args]), at, at, at, done, 1)


def _money_and_parcel(order: dict[str, Any], subtotal: int, tables: Tables) -> None:
    oid, at, warehouse = order["id"], order["at"], order["warehouse"]
    total = subtotal + DELIVERY
    payment = (
        oid,
        f"order-{oid}-charge",
        f"pi_{oid.replace('-', '')[:24]}",
        "succeeded",
        total,
        "USD",
    )
    _add(tables, "payment", [(*payment, 1, at, at)])
    number = _tracking(oid)
    url = f"https://www.ups.com/track?tracknum={number}"
    _add(tables, "shipment", [(oid, warehouse, "ups", number, url, "label_created", at.date(), at)])
    picks = [
        {"warehouse_id": warehouse, "article_number": article, "quantity": quantity}
        for article, quantity in order["lines"]
    ]
    candidates = [{"rank": 1, "warehouse": f"BW{warehouse:04d}", "chosen": True}]
    reason = "nearest warehouse holds the whole order"
    receipt = (oid, "single", reason, json.dumps(candidates), json.dumps(picks), at)
    _add(tables, "allocation_receipt", [receipt])


def _tracking(oid: str) -> str:
    # Unique per order, as the shipment table demands; the shape of a UPS number.
    return f"1ZST{oid.replace('-', '')[:14].upper()}"


def _copy(connection: Any, table: str, rows: Any) -> None:
    support.copy_rows(connection, table, COLUMNS[table].split(), rows)


def _copy_lines(connection: Any, table: str, lines: list[str]) -> None:
    """COPY lines already in the text format: no per-value adaptation on our side."""
    columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table].split()))
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write("".join(lines))


def _move_sequence(connection: Any, table: str) -> None:
    """Past the ids chosen here, so the system's own inserts do not collide with them."""
    connection.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608 - our names
        f' (SELECT coalesce(max(id), 1) FROM "{table}"))'
    )
