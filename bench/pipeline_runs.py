"""The end-to-end measurements, each on a running bench stack: peak, latency, the no-op floor.

Peak: the orders are placed through the intake with the dispatcher down, then it starts;
the drain runs from its first dispatch to the last order shipped with its mail sent, read
from the database's own timestamps. CPU is counted over placing and draining both, so the
intake's share is in; the dispatcher's start-up is left out.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench import drain
from bench.chains import ChainRun, Chains
from bench.cpu import CpuMeter, own_cpu
from bench.stack import GATE, BenchStack
from bench.traffic import Client, Place, order_body

FIRST_DISPATCH_SQL = """SELECT min(created_at) FROM order_event
WHERE kind = 'dispatched' AND order_id = ANY(%s)"""
OTHER_CLIENTS_SQL = """SELECT count(*) FROM pg_stat_activity
WHERE backend_type = 'client backend' AND datname IS DISTINCT FROM current_database()"""
Bodies = Callable[[int], list[dict[str, Any]]]


@dataclass
class Peak:
    """One drain of a backlog: how long it took, and the CPU every process spent on it."""

    orders: int
    seconds: float
    cpu: dict[str, float]
    machine: float
    bench: float
    tasks_per_order: int
    republished: int
    other_clients: int

    @property
    def rate(self) -> float:
        """Orders per second."""
        return self.orders / self.seconds

    def ms_per_order(self, seconds: float) -> float:
        """CPU seconds spent on the whole drain as milliseconds per order."""
        return 1000 * seconds / self.orders


@dataclass
class Latency:
    """Orders placed at a steady rate: each one's seconds to shipped, and to shipped and mailed."""

    rate: float
    to_shipped: list[float] = field(default_factory=list)
    to_emailed: list[float] = field(default_factory=list)
    # Milliseconds from the intake's commit to SQS taking the order's message.
    to_sqs: list[float] = field(default_factory=list)


@dataclass
class Monitor:
    """The benchmark's own database connection, and a meter that leaves its backend out."""

    db: psycopg.Connection[Any]
    meter: CpuMeter

    @classmethod
    def open(cls, stack: BenchStack) -> Monitor:
        """Connect to the stack's database and set up the meter over its processes."""
        db = psycopg.connect(stack.services.database)
        row = db.execute("SELECT pg_backend_pid()").fetchone()
        own = int(row[0]) if row else -1
        db.commit()
        return cls(db, CpuMeter(stack.cpu_groups(), exclude=lambda: [own]))

    def other_clients(self) -> int:
        """Connections to other databases of the server: their work would be in its row."""
        row = self.db.execute(OTHER_CLIENTS_SQL).fetchone()
        self.db.commit()
        return int(row[0]) if row else 0


def bodies_for(rng: random.Random, places: Sequence[Place], articles: Sequence[str]) -> Bodies:
    """A maker of `n` order bodies over these places and articles."""
    return lambda n: [order_body(rng, places, articles) for _ in range(n)]


def drain_timeout(orders: int) -> float:
    """Long enough for the slowest configuration to get through `orders`."""
    return 120.0 + 2.0 * orders


def warm_up(stack: BenchStack, monitor: Monitor, bodies: Bodies, orders: int) -> None:
    """Orders through the open pipeline, so every process has made its connections and
    loaded what it loads on first use; the gate is shut again afterwards."""
    stack.open_gate()
    ids = Client(stack.api).place_all(bodies(orders))
    drain.wait_until_through(monitor.db, ids, drain_timeout(orders))
    stack.close_gate()


def peak(stack: BenchStack, monitor: Monitor, bodies: Bodies, orders: int) -> Peak:
    """Place `orders` with the gate shut, open it, time the drain and count the CPU."""
    backlog = bodies(orders)
    other = monitor.other_clients()
    bench_before = own_cpu()
    monitor.meter.start()
    ids = Client(stack.api).place_all(backlog)
    stack.open_gate()
    monitor.meter.rebase(GATE)
    drain.wait_until_through(monitor.db, ids, drain_timeout(orders))
    cpu, machine = monitor.meter.stop()
    bench = own_cpu() - bench_before
    other = max(other, monitor.other_clients())
    first = monitor.db.execute(FIRST_DISPATCH_SQL, (ids,)).fetchone()
    times = drain.order_times(monitor.db, ids)
    last = max(max(t.shipped, t.emailed) for t in times)
    tasks, republished = drain.tasks_per_order(monitor.db, ids)
    seconds = (last - first[0]).total_seconds() if first and first[0] else float("nan")
    return Peak(orders, seconds, cpu, machine, bench, tasks, republished, other)


def latency(
    stack: BenchStack, monitor: Monitor, bodies: Bodies, orders: int, rate: float
) -> Latency:
    """Place `orders` at `rate` per second with everything running; each one's latencies."""
    ids = Client(stack.api).place_paced(bodies(orders), rate)
    drain.wait_until_through(monitor.db, ids, drain_timeout(orders))
    times = drain.order_times(monitor.db, ids)
    to_sqs = drain.commit_to_sqs(monitor.db, ids)
    return Latency(rate, [t.to_shipped for t in times], [t.to_emailed for t in times], to_sqs)


@dataclass
class NoopRuns:
    """The no-op chain's figures at one worker count."""

    length: int
    peak: ChainRun
    latency: ChainRun
    rate: float
    cpu: dict[str, float]


def noop(stack: BenchStack, concurrency: int, length: int, chains: int, paced: int) -> NoopRuns:
    """Chains of `length` no-op tasks on the stack's broker: a burst, then at half its rate."""
    worker = stack.start_noop_worker(concurrency)
    groups = {"noop worker": lambda: [worker.pid], "redis": stack.cpu_groups()["redis"]}
    meter = CpuMeter(groups, exclude=list)
    sender = Chains(stack.settings.require_redis_url(), stack.settings.celery_queue_prefix, length)
    try:
        meter.start()
        burst = sender.burst(chains, drain_timeout(chains))
        cpu, _ = meter.stop()
        rate = chains / burst.seconds / 2
        steady = sender.paced(paced, rate, drain_timeout(paced))
    finally:
        sender.close()
        worker.stop()
    return NoopRuns(length, burst, steady, rate, cpu)
