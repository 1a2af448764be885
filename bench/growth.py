"""Whether an order costs the same with the database and the network grown: the end-to-end
peak with 10^3 to 10^5 orders already stored and 10 to 1,000 warehouses.

`python -m bench.growth [--pairs 1000:10,10000:100,100000:1000,1000:1000] [--workers 2]`
runs `bench.end_to_end --cpu-only` once per (stored orders, warehouses) pair, each on a fresh
stack and database: the stored orders bulk-loaded with every row a shipped order leaves
behind, every warehouse stocking every article. The point is a flat cost per order.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import end_to_end
from bench.e2e_report import TOTAL, WorkerRun, cpu_ms, workers_label
from bench.report import DEFAULT_OUT, Chart, Result, publish

# The diagonal, then the largest network over the smallest store: warehouses on their own.
DEFAULT_PAIRS = "1000:10,10000:100,100000:1000,1000:1000"
HEADERS = [
    "stored orders",
    "warehouses",
    "orders/s",
    "CPU ms/order",
    "worker ms",
    "payments ms",
    "postgres ms",
    "intake ms",
    "dispatcher ms",
]
SHOWN = ("worker", "payments", "postgres", "intake", "dispatcher")


@dataclass(frozen=True)
class Point:
    """One pair measured."""

    stored: int
    warehouses: int
    run: WorkerRun

    @property
    def label(self) -> str:
        """'10,000 / 100 wh': stored orders / warehouses."""
        return f"{self.stored:,} / {self.warehouses:,} wh"


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[tuple[int, int]]]:
    """The command line, and the (stored orders, warehouses) pairs it asks for."""
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    parser.add_argument("--pairs", default=DEFAULT_PAIRS, help="stored:warehouses, comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="general-worker processes")
    parser.add_argument("--orders", type=int, default=300, help="orders in each peak backlog")
    parser.add_argument("--warmup-orders", type=int, default=20, help="orders before measuring")
    parser.add_argument("--embedded-postgres", action="store_true", help="a server of its own")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where JSON and PNG go")
    parser.add_argument("--logs", type=Path, default=end_to_end.DEFAULT_LOGS)
    args = parser.parse_args(argv)
    pairs = []
    for pair in str(args.pairs).split(","):
        stored, warehouses = pair.split(":")
        pairs.append((int(stored), int(warehouses)))
    return args, pairs


def measure(args: argparse.Namespace, stored: int, warehouses: int) -> Point:
    """The end-to-end peak and CPU at one pair, on a stack of its own."""
    end_to_end.say(f"{stored:,} stored orders, {warehouses:,} warehouses")
    options = end_to_end.Options(
        workers=[args.workers],
        orders=args.orders,
        latency_orders=0,
        warmup_orders=args.warmup_orders,
        cpu_only=True,
        preload_orders=stored,
        warehouses=warehouses,
        embedded_postgres=args.embedded_postgres,
        seed=args.seed,
        out=args.out,
        logs=args.logs,
    )
    return Point(stored, warehouses, end_to_end.run(options)[0])


def row(point: Point) -> list[Any]:
    """One line of the table."""
    ms = cpu_ms(point.run.peak)
    shown = [round(ms[name], 1) for name in SHOWN]
    rate = round(point.run.peak.rate, 2)
    return [point.stored, point.warehouses, rate, round(ms[TOTAL], 1), *shown]


def result(points: list[Point], args: argparse.Namespace) -> Result:
    """The table, the charts and every figure, per pair."""
    labels = [point.label for point in points]
    rates = [point.run.peak.rate for point in points]
    totals = [cpu_ms(point.run.peak)[TOTAL] for point in points]
    return Result(
        name="growth",
        title=f"Growth: end-to-end peak at {workers_label(args.workers)}, data and network grown",
        headers=HEADERS,
        rows=[row(point) for point in points],
        facts=[
            ("orders per peak run", str(args.orders)),
            ("general-worker processes", str(args.workers)),
            ("PostgreSQL", "embedded" if args.embedded_postgres else "local server"),
        ],
        charts=[
            Chart("Orders/s by stored orders / warehouses", "orders/s", labels, {"ours": rates}),
            Chart("CPU ms per order (without Flower)", "ms per order", labels, {"ours": totals}),
        ],
        extra={
            "points": [
                {"stored": p.stored, "warehouses": p.warehouses, "cpu_ms": cpu_ms(p.run.peak)}
                | {"peak": vars(p.run.peak)}
                for p in points
            ]
        },
    )


def main(argv: list[str] | None = None) -> None:
    """Measure every pair, print the table, write the JSON and the PNG."""
    args, pairs = parse_args(argv)
    points = [measure(args, stored, warehouses) for stored, warehouses in pairs]
    publish(result(points, args), args.out)


if __name__ == "__main__":
    main()
