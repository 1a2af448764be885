"""POST /orders per second beside a minimal endpoint that inserts one row, on the same server.

`python -m bench.intake [--connections 1,8,32] [--seconds 10] [--warmup 2] [--out DIR]
[--server URL]` serves the intake and bench.minimal_app with the stack's gunicorn flags on one
throwaway database (on the local PostgreSQL, or an embedded one when it does not answer),
sends both the same orders from a load generator in a process of its own, one endpoint after
the other at each connection count, checks that every order answered 2xx is in the database,
and publishes the table, the figures as JSON and a chart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import support
from bench.intake_stack import Served, draining, served, sqs_lag, sqs_limit
from bench.report import DEFAULT_OUT, Chart, Result, publish
from devstack.commands import python_module, web_flags
from devstack.demo_orders import build_order, catalogue
from devstack.processes import REPO_ROOT
from settings import Settings

ENDPOINTS = ("intake", "minimal")
BODIES = 200
SEED = 7
# Beyond warm-up and the measured window: the load process's start and its last answers.
LOAD_GRACE_SECONDS = 60.0
HEADERS = [
    "connections",
    "ours req/s",
    "ours p50 ms",
    "ours p99 ms",
    "minimal req/s",
    "minimal p50 ms",
    "minimal p99 ms",
    "ratio",
    "SQS ceiling",
]
# Nothing else writes to the throwaway database, so every row is a request answered 2xx.
COUNT_SQL = {
    "intake": 'SELECT count(*) FROM "order"',
    "minimal": "SELECT count(*) FROM minimal_order",
}


@dataclass(frozen=True)
class Measured:
    """One endpoint at one connection count."""

    endpoint: str
    connections: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    # Answers inside the measured window, and all 2xx answers including warm-up.
    measured: int
    accepted: int
    statuses: dict[str, int]
    # CPU the load generator used over the window, in cores: it shares the machine.
    load_cores: float


def order_bodies(seed: int) -> list[str]:
    """Valid guest orders (seeded articles, postal codes that locate) as JSON, drawn from `seed`."""
    rng = random.Random(seed)
    articles = catalogue()
    return [json.dumps(build_order(rng, articles)) for _ in range(BODIES)]


def run_load(spec: dict[str, object], timeout: float) -> dict[str, Any]:
    """Run bench.load in a process of its own (no GIL shared with the servers); its tally."""
    done = subprocess.run(
        python_module("bench.load"),
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the load generator failed ({done.returncode}):\n{done.stderr}")
    tally: dict[str, Any] = json.loads(done.stdout)
    return tally


def measure(
    url: str, endpoint: str, bodies: list[str], connections: int, args: argparse.Namespace
) -> Measured:
    """POST orders to `url` over `connections` connections; stop the run on any failed request."""
    where = urlsplit(url)
    spec = {
        "host": where.hostname,
        "port": where.port,
        "path": "/orders",
        "bodies": bodies,
        "connections": connections,
        "warmup": args.warmup,
        "seconds": args.seconds,
    }
    tally = run_load(spec, args.warmup + args.seconds + LOAD_GRACE_SECONDS)
    latencies: list[float] = tally["latencies_ms"]
    what = f"{endpoint} at {connections} connections"
    if tally["first_error"] is not None:
        raise SystemExit(f"{what}: answers {tally['statuses']}; first error {tally['first_error']}")
    if not latencies:
        raise SystemExit(f"{what}: no answer inside the measured window")
    return Measured(
        endpoint,
        connections,
        round(len(latencies) / args.seconds, 1),
        round(support.percentile(latencies, 50), 2),
        round(support.percentile(latencies, 99), 2),
        len(latencies),
        tally["accepted"],
        tally["statuses"],
        round(tally["cpu_seconds"] / tally["wall_seconds"], 3),
    )


def verify(database: str, runs: Sequence[Measured]) -> None:
    """Stop unless each endpoint's table holds exactly one row per request it answered 2xx."""
    problems = []
    with support.connect(database) as connection:
        for endpoint in ENDPOINTS:
            accepted = sum(run.accepted for run in runs if run.endpoint == endpoint)
            row = connection.execute(COUNT_SQL[endpoint]).fetchone()
            stored = row[0] if row else 0
            if stored != accepted:
                problems.append(f"{endpoint}: {accepted} requests accepted, {stored} rows stored")
            else:
                print(f"{endpoint}: all {accepted} accepted requests are rows in the database")
    if problems:
        raise SystemExit("verification failed: " + "; ".join(problems))


def table_rows(
    runs: Sequence[Measured], connections: Sequence[int], sqs_per_second: float
) -> list[list[object]]:
    """One row per connection count: ours, the minimal endpoint, ours over minimal, and the
    ceiling the SQS server sets on that ratio.

    Every order the intake takes is a message it must get onto SQS, so no intake can go on
    taking orders faster than the SQS server takes messages: `sqs_per_second` (measured with
    the whole machine to itself, so an upper bound) over the minimal endpoint's rate is the
    highest ratio any intake publishing to this server can sustain.
    """
    by = {(run.endpoint, run.connections): run for run in runs}
    rows: list[list[object]] = []
    for count in connections:
        ours, minimal = by["intake", count], by["minimal", count]
        ratio = round(ours.requests_per_second / minimal.requests_per_second, 3)
        ceiling = round(sqs_per_second / minimal.requests_per_second, 3)
        rows.append([count, *_figures(ours), *_figures(minimal), ratio, ceiling])
    return rows


def _figures(run: Measured) -> list[object]:
    return [run.requests_per_second, run.p50_ms, run.p99_ms]


def result(
    args: argparse.Namespace,
    stack: Served,
    runs: Sequence[Measured],
    busy: tuple[float, float],
    lag: dict[str, float],
) -> Result:
    """The table, the facts needed to compare runs, the charts and the raw summary.

    `busy` is the machine's 1-minute load average before and after the runs: the cores are
    shared, and anything else running on them slows both endpoints, not always alike.
    """
    categories = [f"{count} conn" for count in args.connections]

    def series(figure: str) -> dict[str, list[float]]:
        return {e: [getattr(r, figure) for r in runs if r.endpoint == e] for e in ENDPOINTS}

    charts = [
        Chart("POST /orders per second", "requests/s", categories, series("requests_per_second")),
        Chart("p99 latency", "ms", categories, series("p99_ms")),
    ]
    facts = [*stack.facts, *run_facts(args, runs, busy, lag)]
    return Result(
        name="intake",
        title=(
            "POST /orders: the intake beside a minimal one-row endpoint (ratio = ours/minimal;"
            " SQS ceiling = the SQS server alone/minimal)"
        ),
        headers=HEADERS,
        rows=table_rows(runs, args.connections, lag["server_limit_per_s"]),
        facts=facts,
        charts=charts,
        extra={"runs": [asdict(run) for run in runs], "commit_to_sqs": lag},
    )


def run_facts(
    args: argparse.Namespace,
    runs: Sequence[Measured],
    busy: tuple[float, float],
    lag: dict[str, float],
) -> list[tuple[str, str]]:
    """How this run was made, and the commit-to-SQS figures beside it."""
    load_cores = max(run.load_cores for run in runs)
    return [
        ("gunicorn", " ".join(web_flags())),
        ("warm-up, measured", f"{args.warmup} s, {args.seconds} s per endpoint and count"),
        ("load generator", "1 process, asyncio, HTTP/1.1 keep-alive, raw sockets"),
        ("rate limits", f"each {args.rate_limit} per address" if args.rate_limit else "off"),
        ("load generator CPU", f"at most {load_cores:.2f} cores"),
        ("load average before, after", f"{busy[0]:.2f}, {busy[1]:.2f}"),
        ("orders", f"{BODIES} bodies from the seeded catalogue, a fresh Idempotency-Key each"),
        ("SQS", "moto server, drained as a dispatcher would; the workers not running"),
        ("commit to SQS, p50 / p99", f"{lag['p50_ms']} ms / {lag['p99_ms']} ms"),
        ("messages not on SQS at the end", str(int(lag["unsent"]))),
        ("messages whose publish failed (left to the relay)", str(int(lag["publish_errors"]))),
        ("the SQS server alone, batches of 10", f"{lag['server_limit_per_s']:.0f} messages/s"),
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--connections",
        type=lambda text: [int(count) for count in text.split(",")],
        default=[1, 8, 32],
        help="comma-separated connection counts",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured, per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured, before each run")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where JSON and PNG go")
    parser.add_argument("--server", default=Settings().test_database_url)
    parser.add_argument(
        "--rate-limit", help="every rate limit at this (120/minute); off by default: one address"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve both endpoints, load each in turn at every connection count, verify, publish."""
    args = parse_args(argv)
    before = os.getloadavg()[0]  # ahead of our own setup, which loads the machine too
    bodies = order_bodies(SEED)
    with served(args.server, args.rate_limit) as stack:
        support.print_table(["fact", "value"], stack.facts)
        runs = []
        with draining(stack.settings):
            for connections in args.connections:
                for endpoint in ENDPOINTS:
                    url = stack.intake if endpoint == "intake" else stack.minimal
                    run = measure(url, endpoint, bodies, connections, args)
                    rate = run.requests_per_second
                    print(f"{endpoint:>8}, {connections:>3} connections: {rate} /s")
                    runs.append(run)
            verify(stack.database, runs)
            lag = sqs_lag(stack.database)
            lag["server_limit_per_s"] = round(sqs_limit(stack.settings), 1)
        busy = (before, os.getloadavg()[0])
        publish(result(args, stack, runs, busy, lag), args.out)


if __name__ == "__main__":
    main()
