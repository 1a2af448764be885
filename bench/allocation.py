"""Allocations per second beside the bare conditional UPDATE that bounds them.

`python -m bench.allocation [--orders N] [--threads T]` makes a throwaway database on the local
PostgreSQL (an embedded one when it does not answer) and drops it at the end.
"""

from __future__ import annotations

import argparse
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import report, support
from bench.allocation_report import publish
from models.domain.allocation import Site, plan_allocation, rank
from models.domain.geo import Point
from models.services.allocate import allocate_order
from models.store.db import get_engine, session_factory
from models.store.unit_of_work import Work
from models.store.warehouses import WarehouseDirectory
from settings import Settings

WAREHOUSES = 1_000
PRODUCTS = 10_000
STOCKED_IN = 20
HOT_STOCKED_IN = 50
# The continental US as a box: the few points at sea change no ranking's cost.
LATITUDES = (25.0, 49.0)
LONGITUDES = (-124.0, -67.0)
PRICE = 1999
PROFILED_ORDERS = 200
POLICY_ITERATIONS = 1_000
Pick = tuple[int, str, int]
PRODUCT_COLUMNS = ["article_number", "name", "price", "currency", "created_at"]
STOCK_COLUMNS = ["warehouse_id", "article_number", "on_hand", "reserved", "updated_at"]
LINE_COLUMNS = ["order_id", "line_no", "article_number", "quantity", "unit_price"]

LIMIT_SQL = """UPDATE stock SET reserved = reserved + %(q)s
WHERE warehouse_id = %(w)s AND article_number = %(a)s AND on_hand - reserved >= %(q)s"""
WAREHOUSES_SQL = """INSERT INTO warehouse (id, code, name, postal_code, country, latitude,
    longitude, active, allows_self_service, created_at)
SELECT id, code, code, '00000', 'US', lat, lon, true, true, now()
FROM unnest(%s::int[], %s::text[], %s::float8[], %s::float8[]) AS t(id, code, lat, lon)"""
ORDERS_SQL = """INSERT INTO "order" (id, status, customer_email, customer_name,
    guest_token_hash, ship_line1, ship_city, ship_postal_code, ship_country, ship_latitude,
    ship_longitude, delivery_method, payment_method, currency, subtotal, delivery_cost, total,
    eta, created_at, updated_at)
SELECT id, 'received', 'bench@example.com', 'Bench', repeat('0', 64), '1 Main St', 'Town',
    '00000', 'US', lat, lon, 'curbside', 'pm_bench', 'USD', subtotal, 4900, subtotal + 4900,
    current_date + 3, now(), now()
FROM unnest(%s::uuid[], %s::float8[], %s::float8[], %s::int[]) AS t(id, lat, lon, subtotal)"""
VERIFY_SQL = """SELECT
  (SELECT count(*) FROM "order" WHERE id = ANY(%(ids)s) AND status = 'allocated'),
  (SELECT count(DISTINCT order_id) FROM allocation WHERE order_id = ANY(%(ids)s)),
  (SELECT coalesce(sum(l.quantity), 0) FROM order_line l JOIN "order" o ON o.id = l.order_id
     WHERE o.id = ANY(%(ids)s) AND o.status = 'allocated'),
  (SELECT coalesce(sum(quantity), 0) FROM allocation WHERE order_id = ANY(%(ids)s)),
  (SELECT count(*) FROM stock WHERE reserved > on_hand),
  (SELECT sum(reserved) FROM stock),
  (SELECT coalesce(sum(quantity), 0) FROM allocation)"""


@dataclass(frozen=True)
class World:
    """What the database holds: the warehouse sites, the hot article and the spread ones."""

    sites: list[Site]
    hot: str
    spread: list[str]


def us_point(rng: random.Random) -> Point:
    """A random point in the continental US."""
    return Point(round(rng.uniform(*LATITUDES), 6), round(rng.uniform(*LONGITUDES), 6))


def article_number(i: int) -> str:
    """The i-th article number, ###.###.## (distinct for i below 10,000)."""
    digits = f"{10_000_000 + i * 7919:08d}"
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"


def build_world(url: str, rng: random.Random) -> World:
    """Warehouses, products and ~200k stock rows, in bulk."""
    now = datetime.now(UTC)
    sites = [Site(i, f"WH{i:04d}", us_point(rng)) for i in range(1, WAREHOUSES + 1)]
    articles = [article_number(i) for i in range(PRODUCTS)]
    ids = [s.warehouse_id for s in sites]
    # Plenty of units: a run measures reserving, not running out.
    stock = [(w, articles[0], 10_000_000, 0, now) for w in rng.sample(ids, HOT_STOCKED_IN)]
    stock += [
        (w, a, rng.randint(500, 1000), 0, now)
        for a in articles[1:]
        for w in rng.sample(ids, STOCKED_IN)
    ]
    with support.connect(url) as connection:
        columns = [ids, [s.code for s in sites]]
        columns += [[s.location.latitude for s in sites], [s.location.longitude for s in sites]]
        connection.execute(WAREHOUSES_SQL, columns)
        products = ((a, f"Article {a}", PRICE, "USD", now) for a in articles)
        support.copy_rows(connection, "product", PRODUCT_COLUMNS, products)
        support.copy_rows(connection, "stock", STOCK_COLUMNS, stock)
    support.vacuum_analyze(url)
    return World(sites, articles[0], articles[1:])


def insert_orders(
    url: str, rng: random.Random, count: int, lines: Callable[[], dict[str, int]]
) -> list[uuid.UUID]:
    """`count` received orders at random US points, each with the lines `lines()` gives."""
    ids = [uuid.uuid4() for _ in range(count)]
    points = [us_point(rng) for _ in ids]
    wanted = [lines() for _ in ids]
    order_lines = [
        (order_id, n, article, quantity, PRICE)
        for order_id, w in zip(ids, wanted, strict=True)
        for n, (article, quantity) in enumerate(w.items(), start=1)
    ]
    with support.connect(url) as connection:
        latitudes, longitudes = [p.latitude for p in points], [p.longitude for p in points]
        subtotals = [PRICE * sum(w.values()) for w in wanted]
        connection.execute(ORDERS_SQL, (ids, latitudes, longitudes, subtotals))
        support.copy_rows(connection, "order_line", LINE_COLUMNS, order_lines)
        connection.execute('ANALYZE "order", order_line')
    return ids


def allocate_run(url: str, order_ids: list[uuid.UUID], threads: int) -> tuple[float, Counter[str]]:
    """Allocate every order with the production step, `threads` at once; seconds, outcomes."""
    settings = Settings(database_url=url)
    sessions = session_factory(url)
    directory = WarehouseDirectory(refresh=settings.warehouse_cache_seconds)
    # A running worker already holds its pooled connections and its warehouse list.
    for connection in [get_engine(url).connect() for _ in range(threads)]:
        connection.close()
    with sessions() as session:
        directory.sites(session)
    parts = support.shares(order_ids, threads)

    def prepare(index: int) -> Callable[[], Counter[str]]:
        return lambda: Counter(
            allocate_order(Work(sessions), directory, settings, o).outcome.value
            for o in parts[index]
        )

    seconds, counters = support.timed_threads(threads, prepare)
    return seconds, sum(counters, Counter[str]())


def limit_run(url: str, picks: list[Pick], threads: int) -> tuple[float, int]:
    """The bare conditional UPDATE, one commit each, `threads` at once; seconds, units reserved."""
    parts = support.shares(picks, threads)

    def prepare(index: int) -> Callable[[], int]:
        connection = support.connect(url)

        def work() -> int:
            units = 0
            with connection:
                for w, a, q in parts[index]:
                    cursor = connection.execute(LIMIT_SQL, {"q": q, "w": w, "a": a}, prepare=True)
                    connection.commit()
                    units += q * cursor.rowcount
            return units

        return work

    seconds, units = support.timed_threads(threads, prepare)
    return seconds, sum(units)


def reserved_picks(url: str, order_ids: list[uuid.UUID]) -> list[Pick]:
    """The stock rows and quantities the allocations reserved, in the order they were made."""
    with support.connect(url) as connection:
        rows = connection.execute(
            "SELECT warehouse_id, article_number, quantity FROM allocation"
            " WHERE order_id = ANY(%s) ORDER BY id",
            (order_ids,),
        ).fetchall()
    return [(w, a, q) for w, a, q in rows]


def verify(url: str, order_ids: list[uuid.UUID], outcomes: Counter[str], bare_units: int) -> None:
    """Stop the run if stock was oversold or orders, allocations and reservations disagree."""
    with support.connect(url) as connection:
        row = connection.execute(VERIFY_SQL, {"ids": order_ids}).fetchone()
    assert row is not None
    allocated, with_rows, ordered, picked, oversold, reserved, all_picked = row
    expected = all_picked + bare_units
    checks = {
        f"{oversold} stock rows reserved beyond on_hand": oversold == 0,
        f"of {len(order_ids)} orders {allocated} allocated, {with_rows} with allocations,"
        f" outcomes {dict(outcomes)}": allocated == with_rows == outcomes["allocated"],
        f"{ordered} units ordered, {picked} allocated": ordered == picked,
        f"{reserved} units reserved, {expected} allocated or updated": reserved == expected,
    }
    failed = [problem for problem, ok in checks.items() if not ok]
    if failed:
        raise SystemExit("verification failed: " + "; ".join(failed))


def spread_lines(rng: random.Random, world: World) -> Callable[[], dict[str, int]]:
    """One to three distinct spread articles, one to three units each."""
    return lambda: {a: rng.randint(1, 3) for a in rng.sample(world.spread, rng.randint(1, 3))}


def where_time_goes(url: str, order_ids: list[uuid.UUID]) -> None:
    """Print statements per allocation and the time inside them against the whole."""
    with support.counting_statements(get_engine(url)) as tally:
        seconds, _ = allocate_run(url, order_ids, 1)
    n = len(order_ids)
    kinds = ", ".join(f"{kind} {count / n:.1f}" for kind, count in tally.kinds.items())
    print(f"\nspread, 1 thread: {1000 * seconds / n:.2f} ms per allocation, of which")
    print(f"  {1000 * tally.seconds / n:.2f} ms inside {tally.statements / n:.1f} statements")
    print(f"    ({kinds}),")
    print(f"  {1000 * (seconds - tally.seconds) / n:.2f} ms in Python, commit and pool checkout\n")


def policy_rows(world: World, rng: random.Random, n: int) -> list[tuple[str, float]]:
    """Microseconds per decision for a 3-line order in a network of 1,000 warehouses."""
    wanted = {a: rng.randint(1, 3) for a in rng.sample(world.spread, 3)}
    stock: dict[int, dict[str, int]] = {}
    for article in wanted:
        for site in rng.sample(world.sites, STOCKED_IN):
            stock.setdefault(site.warehouse_id, {})[article] = rng.randint(1, 50)
    points = [us_point(rng) for _ in range(n)]
    by_id = {site.warehouse_id: site for site in world.sites}

    def decide(point: Point) -> object:
        # As the allocate step does: only warehouses holding some of the order are ranked.
        holders = [by_id[w] for w in stock]
        return plan_allocation(wanted, rank(point, holders), stock)

    calls: dict[str, Callable[[int], object]] = {
        f"rank all {len(world.sites):,} warehouses (not done per order), µs": lambda i: rank(
            points[i], world.sites
        ),
        f"decision: rank {len(stock)} holders + plan, µs": lambda i: decide(points[i]),
    }
    return [(name, 1e6 * support.seconds_per_call(call, n)) for name, call in calls.items()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders per scenario and run")
    parser.add_argument("--threads", type=int, default=4, help="the concurrent thread count")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server", default=Settings().test_database_url)
    parser.add_argument("--out", type=Path, default=report.DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Set up, measure each scenario beside its limit, verify, print."""
    args = parse_args(argv)
    rng = random.Random(args.seed)
    with (
        support.postgres_server(args.server) as (server, embedded),
        support.fresh_database(server, "bench") as url,
    ):
        facts = support.machine_facts(url, embedded)
        support.print_table(["fact", "value"], facts)
        started = time.perf_counter()
        world = build_world(url, rng)
        print(f"\nset up warehouses, products and stock in {time.perf_counter() - started:.1f}s\n")
        scenarios = {"hot": lambda: {world.hot: 1}, "spread": spread_lines(rng, world)}
        rows: list[tuple[object, ...]] = []
        bare_units = 0
        for name, lines in scenarios.items():
            for threads in sorted({1, args.threads}):
                order_ids = insert_orders(url, rng, args.orders, lines)
                seconds, outcomes = allocate_run(url, order_ids, threads)
                verify(url, order_ids, outcomes, bare_units)
                # The limit reserves the very rows the allocations did, one per commit.
                picks = reserved_picks(url, order_ids)
                limit_seconds, units = limit_run(url, picks[: args.orders], threads)
                bare_units += units
                verify(url, order_ids, outcomes, bare_units)
                ours = args.orders / seconds
                limit = min(len(picks), args.orders) / limit_seconds
                rows.append((name, threads, ours, limit, ours / limit, len(picks) / args.orders))
        publish(rows, facts, args.out)
        where_time_goes(url, insert_orders(url, rng, PROFILED_ORDERS, scenarios["spread"]))
        policy = policy_rows(world, rng, POLICY_ITERATIONS)
        support.print_table(["policy among 1,000 warehouses, 3-line order", "value"], policy)


if __name__ == "__main__":
    main()
