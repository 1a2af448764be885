"""Orders per second from submission to shipped and emailed, beside a chain of no-op tasks.

`python -m bench.end_to_end [--workers 1,2,4] [--orders 300] [--latency-orders 100]`
starts the whole system as processes (bench/stack.py) on a fresh database and, for each
count of general-worker processes:

- peak: the orders placed with the dispatcher down, then drained (bench/pipeline_runs.py);
  orders/s, and the CPU each process spent per order over placing and draining;
- latency: orders placed at half that rate, p50/p99 from submission to shipped and emailed;
- the floor: chains of as many no-op tasks as one order ran (counted from its follow-up
  rows), same broker, same worker flags: chains/s and latency at half its peak.

`--cpu-only` measures just the peak and the CPU table: `--cpu-only --workers 2 --orders 300`.
`--no-worker-events` runs the workers without task events (what Flower costs them).
`--embedded-postgres` gives the run a PostgreSQL of its own, so its CPU row holds nothing
but this run's work (the local server is shared with whatever else uses it).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from pathlib import Path

from bench import pipeline_runs as runs
from bench.e2e_report import WorkerRun, publish_end_to_end, workers_label
from bench.preload import preload_orders, seed_catalogue
from bench.report import DEFAULT_OUT
from bench.stack import BenchStack, running_bench_stack
from bench.support import vacuum_analyze
from bench.traffic import us_places
from devstack.processes import REPO_ROOT

DEFAULT_LOGS = REPO_ROOT / ".bench" / "logs"
PLACES = 2_000


@dataclass(frozen=True)
class Options:
    """What the command line chose."""

    workers: list[int]
    orders: int
    latency_orders: int
    warmup_orders: int
    cpu_only: bool
    preload_orders: int
    warehouses: int
    embedded_postgres: bool
    seed: int
    out: Path
    logs: Path
    # WORKER_EVENTS: off measures what the events for Flower cost the workers.
    worker_events: bool = True


def parse_args(argv: list[str] | None = None) -> Options:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.end_to_end", description=__doc__)
    parser.add_argument("--workers", default="1,2,4", help="general-worker processes, e.g. 1,2,4")
    parser.add_argument("--orders", type=int, default=300, help="orders in the peak backlog")
    parser.add_argument("--latency-orders", type=int, default=100, help="orders at half peak")
    parser.add_argument("--warmup-orders", type=int, default=20, help="orders before measuring")
    parser.add_argument("--cpu-only", action="store_true", help="peak and CPU table only")
    parser.add_argument("--preload-orders", type=int, default=0, help="orders already stored")
    parser.add_argument("--warehouses", type=int, default=10, help="warehouses, all stocked")
    parser.add_argument("--embedded-postgres", action="store_true", help="a server of its own")
    parser.add_argument("--no-worker-events", action="store_true", help="WORKER_EVENTS=false")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where JSON and PNG go")
    parser.add_argument("--logs", type=Path, default=DEFAULT_LOGS, help="the processes' logs")
    args = parser.parse_args(argv)
    workers = [int(part) for part in str(args.workers).split(",") if part.strip()]
    return Options(
        workers,
        args.orders,
        args.latency_orders,
        args.warmup_orders,
        args.cpu_only,
        args.preload_orders,
        args.warehouses,
        args.embedded_postgres,
        args.seed,
        args.out,
        args.logs,
        worker_events=not args.no_worker_events,
    )


def say(text: str) -> None:
    """Progress, one line at a time."""
    print(f"bench: {text}", flush=True)


def prepare(stack: BenchStack, options: Options, rng: random.Random) -> runs.Bodies:
    """Warehouses, stock and stored orders in the database; a maker of order bodies."""
    url = stack.services.database
    articles = seed_catalogue(url, options.warehouses, rng)
    places = us_places(rng, PLACES)
    if options.preload_orders:
        started = time.monotonic()
        preload_orders(url, options.preload_orders, articles, places, rng)
        say(f"stored {options.preload_orders:,} orders in {time.monotonic() - started:.0f} s")
    else:
        vacuum_analyze(url)
    return runs.bodies_for(rng, places, articles)


def measure(stack: BenchStack, options: Options, bodies: runs.Bodies, workers: int) -> WorkerRun:
    """Every figure at one worker count."""
    stack.start_consumers(workers)
    monitor = runs.Monitor.open(stack)
    try:
        runs.warm_up(stack, monitor, bodies, options.warmup_orders)
        peak = runs.peak(stack, monitor, bodies, options.orders)
        say(f"{workers_label(workers)}: {peak.rate:.1f} orders/s, {peak.tasks_per_order} tasks")
        if options.cpu_only:
            return WorkerRun(workers, peak)
        steady = runs.latency(stack, monitor, bodies, options.latency_orders, peak.rate / 2)
    finally:
        monitor.db.close()
        stack.stop_pipeline()
    length = peak.tasks_per_order
    noop = runs.noop(stack, workers, length, options.orders, options.latency_orders)
    chains = options.orders / noop.peak.seconds
    say(f"{workers_label(workers)}: no-op chains of {length} tasks: {chains:.1f}/s")
    return WorkerRun(workers, peak, steady, noop)


def run(options: Options) -> list[WorkerRun]:
    """Start the stack once and measure at every worker count."""
    rng = random.Random(options.seed)
    with running_bench_stack(
        options.logs, options.embedded_postgres, options.worker_events
    ) as stack:
        say(f"stack up; logs in {options.logs}")
        bodies = prepare(stack, options, rng)
        return [measure(stack, options, bodies, workers) for workers in options.workers]


def main(argv: list[str] | None = None) -> None:
    """Measure, print the tables, write the JSON and the PNG."""
    options = parse_args(argv)
    results = run(options)
    publish_end_to_end(results, options.cpu_only, vars(options), options.out)


if __name__ == "__main__":
    main()
