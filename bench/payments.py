"""Charges per second through the payment step beside the limit the gateway's latency sets.

`python -m bench.payments [--orders N] [--pools 16 32] [--latency 0.05]` starts the payment
sandbox with that latency, makes a throwaway database on the local PostgreSQL (an embedded one
when it does not answer), charges every order with the production step, and checks the ledger.
"""

from __future__ import annotations

import argparse
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]  # no stubs among our dependencies
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from bench import support
from devstack.services import RunningService, start_payment_sandbox
from models.ports import CaptureMethod, ChargeResult
from models.services.charge import charge_order
from models.store.unit_of_work import Work
from models.tables.base import normalise_url
from settings import Settings
from workers.adapters.stripe import StripeGateway

API_KEY = "sk_test_bench"
SUBTOTAL, DELIVERY = 2500, 4900
ORDERS_SQL = """INSERT INTO "order" (id, status, customer_email, customer_name,
    guest_token_hash, ship_line1, ship_city, ship_postal_code, ship_country, ship_latitude,
    ship_longitude, delivery_method, payment_method, currency, subtotal, delivery_cost, total,
    eta, created_at, updated_at)
SELECT id, 'allocated', 'bench@example.com', 'Bench', repeat('0', 64), '1 Main St', 'Town',
    '00000', 'US', 40.7, -74.0, 'curbside', 'pm_card_visa', 'USD', %(subtotal)s, %(delivery)s,
    %(subtotal)s + %(delivery)s, current_date + 3, now(), now()
FROM unnest(%(ids)s::uuid[]) AS t(id)"""
VERIFY_SQL = """SELECT
  (SELECT count(*) FROM "order" WHERE id = ANY(%(ids)s) AND status = 'paid'),
  (SELECT count(*) FROM payment WHERE order_id = ANY(%(ids)s) AND status = 'succeeded')"""


class TimedGateway(StripeGateway):
    """The Stripe adapter, adding up the seconds its charges take across threads."""

    def __init__(self, *, api_base: str) -> None:
        super().__init__(api_key=API_KEY, api_base=api_base, timeout=5, attempts=3)
        self.seconds = 0.0
        self._lock = threading.Lock()

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: int,
        currency: str,
        payment_method: str,
        order_id: str,
        capture: CaptureMethod = "automatic",
    ) -> ChargeResult:
        """Charge as the adapter does, timing the call."""
        started = time.perf_counter()
        try:
            return super().charge(
                idempotency_key=idempotency_key,
                amount=amount,
                currency=currency,
                payment_method=payment_method,
                order_id=order_id,
                capture=capture,
            )
        finally:
            with self._lock:
                self.seconds += time.perf_counter() - started


@dataclass(frozen=True)
class Cpu:
    """CPU seconds so far: this process, the sandbox's, and all cores' busy time."""

    bench: float
    sandbox: float
    machine: float

    @classmethod
    def now(cls, sandbox: psutil.Process) -> Cpu:
        """A reading of all three."""
        own, theirs, cores = psutil.Process().cpu_times(), sandbox.cpu_times(), psutil.cpu_times()
        busy = sum(cores) - cores.idle - getattr(cores, "iowait", 0.0)
        return cls(own.user + own.system, theirs.user + theirs.system, busy)

    def since(self, earlier: Cpu) -> Cpu:
        """The CPU seconds used between `earlier` and this reading."""
        return Cpu(
            self.bench - earlier.bench,
            self.sandbox - earlier.sandbox,
            self.machine - earlier.machine,
        )


@dataclass(frozen=True)
class Run:
    """One measured run: its size, duration, outcomes and where the time and CPU went."""

    pool: int
    orders: int
    seconds: float
    outcomes: Counter[str]
    gateway_seconds: float
    cpu: Cpu

    def row(self, latency: float) -> tuple[object, ...]:
        """The run as a table row: rate beside its limit, then milliseconds and cores."""
        rate, limit = self.orders / self.seconds, self.pool / latency
        per_charge = 1000 * self.pool * self.seconds / self.orders
        in_gateway = 1000 * self.gateway_seconds / self.orders
        cpu_per_charge = 1000 * self.cpu.bench / self.orders
        cores = (self.cpu.bench, self.cpu.sandbox, self.cpu.machine)
        busy = [f"{seconds / self.seconds:.2f}" for seconds in cores]
        timing = (per_charge, in_gateway, cpu_per_charge)
        return (self.pool, self.orders, 1000 * latency, rate, limit, rate / limit, *timing, *busy)


# ms/charge is one thread's view of a charge; bench cores is this process's CPU, which the GIL
# keeps under 1.0, so 1000 / (bench CPU ms/charge) is the most charges/s one process can do.
HEADERS = [
    "pool",
    "orders",
    "latency ms",
    "charges/s",
    "limit/s",
    "ratio",
    "ms/charge",
    "in gateway ms",
    "bench CPU ms/charge",
    "bench cores",
    "sandbox cores",
    "machine cores",
]


def insert_orders(url: str, count: int) -> list[uuid.UUID]:
    """`count` orders already allocated (charging needs no stock), paid by a succeeding card."""
    ids = [uuid.uuid4() for _ in range(count)]
    with support.connect(url) as connection:
        connection.execute(ORDERS_SQL, {"ids": ids, "subtotal": SUBTOTAL, "delivery": DELIVERY})
        connection.execute('ANALYZE "order"')
    return ids


@contextmanager
def bench_sessions(url: str, pool: int) -> Iterator[sessionmaker[Session]]:
    """Sessions over an engine holding one connection per thread.

    models.db.get_engine caps a process at 5 + 10 connections; with more threads than that
    the run would measure waiting for a connection, not the payment step. Pre-ping stays on,
    as there, because it is a round trip every checkout pays in production.
    """
    engine = create_engine(normalise_url(url), pool_size=pool, max_overflow=0, pool_pre_ping=True)
    # A running worker has its connections open already.
    for connection in [engine.connect() for _ in range(pool)]:
        connection.close()
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


def charge_run(url: str, sandbox: RunningService, order_ids: Sequence[uuid.UUID], pool: int) -> Run:
    """Charge every order with the production step from `pool` threads sharing one gateway."""
    gateway = TimedGateway(api_base=sandbox.url)
    parts = support.shares(list(order_ids), pool)
    watched = psutil.Process(sandbox.pid)
    readings: list[Cpu] = []
    with bench_sessions(url, pool) as sessions:

        def prepare(index: int) -> Callable[[], Counter[str]]:
            return lambda: Counter(
                charge_order(Work(sessions), gateway, o).value for o in parts[index]
            )

        seconds, counters = support.timed_threads(
            pool, prepare, on_start=lambda: readings.append(Cpu.now(watched))
        )
        after = Cpu.now(watched)
    outcomes = sum(counters, Counter[str]())
    used = after.since(readings[0])
    return Run(pool, len(order_ids), seconds, outcomes, gateway.seconds, used)


def verify(url: str, sandbox: RunningService, order_ids: Sequence[uuid.UUID], run: Run) -> None:
    """Stop unless every order was charged exactly once, for its total, and is paid."""
    ledger = requests.get(f"{sandbox.url}/_sandbox/ledger", timeout=10).json()
    wanted = {str(order_id) for order_id in order_ids}
    ours = [entry for entry in ledger if entry["metadata"].get("order_id") in wanted]
    charged = Counter(entry["metadata"]["order_id"] for entry in ours)
    twice = [order_id for order_id, times in charged.items() if times > 1]
    amounts = {entry["amount"] for entry in ours}
    with support.connect(url) as connection:
        row = connection.execute(VERIFY_SQL, {"ids": list(order_ids)}).fetchone()
    paid, succeeded = row if row else (0, 0)
    n = len(order_ids)
    checks = {
        f"outcomes {dict(run.outcomes)}": run.outcomes == Counter({"paid": n}),
        f"{len(charged)} of {n} orders charged": len(charged) == n,
        f"{len(twice)} orders charged more than once": not twice,
        f"amounts charged {amounts}": amounts == {SUBTOTAL + DELIVERY},
        f"{paid} of {n} orders paid, {succeeded} payments succeeded": paid == succeeded == n,
    }
    failed = [problem for problem, ok in checks.items() if not ok]
    if failed:
        raise SystemExit("verification failed: " + "; ".join(failed))


def main() -> None:
    """Start the sandbox and a database, charge at each pool size, verify, print."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    # A multiple of every pool size, so that no thread is left with one charge more to do.
    parser.add_argument("--orders", type=int, default=960, help="orders per pool size")
    parser.add_argument("--pools", type=int, nargs="+", default=[16, 32], help="thread counts")
    parser.add_argument("--baseline", type=int, default=40, help="orders charged by 1 thread")
    parser.add_argument("--latency", type=float, default=0.05, help="gateway latency, seconds")
    parser.add_argument("--server", default=Settings().test_database_url)
    args = parser.parse_args()
    sandbox = start_payment_sandbox(extra_args=["--latency", str(args.latency)])
    try:
        with (
            support.postgres_server(args.server) as (server, embedded),
            support.fresh_database(server, "bench") as url,
        ):
            support.print_table(["fact", "value"], support.machine_facts(url, embedded))
            rows = []
            # One thread first: what a charge costs beyond the gateway's latency.
            runs = [(1, args.baseline), *((pool, args.orders) for pool in args.pools)]
            for pool, orders in runs:
                order_ids = insert_orders(url, orders)
                run = charge_run(url, sandbox, order_ids, pool)
                verify(url, sandbox, order_ids, run)
                rows.append(run.row(args.latency))
            print("\nevery order charged exactly once and paid (ledger and database checked)\n")
            support.print_table(HEADERS, rows)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
