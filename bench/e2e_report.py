"""The end-to-end benchmark's tables, charts and JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.pipeline_runs import Latency, NoopRuns, Peak
from bench.report import Chart, Result, publish
from bench.stack import FLOWER, PROCESSES
from bench.support import percentile, print_table

HEADERS = [
    "workers",
    "orders/s",
    "p50 s",
    "p99 s",
    "p99 shipped s",
    "to SQS p50 ms",
    "to SQS p99 ms",
    "no-op chains/s",
    "no-op p50 s",
    "no-op p99 s",
    "ratio",
    "CPU ms/order",
    "no-op CPU ms/chain",
    "floor CPU ms/order",
]
TOTAL = "total (without Flower)"
# Below the total: counted apart, or not at all.
APART = (FLOWER, "bench driver (not counted)", "machine busy (everything on it)")
NOT_MEASURED = "-"
# The stand-ins for the outside world: the mails, payment calls and SQS message an order needs
# cost them this much whatever our code does.
STAND_INS = ("moto", "smtp sink", "payment sandbox")


@dataclass
class WorkerRun:
    """Every figure measured at one count of general-worker processes."""

    workers: int
    peak: Peak
    latency: Latency | None = None
    noop: NoopRuns | None = None


def workers_label(count: int) -> str:
    """'1 worker', '2 workers'."""
    return f"{count} worker" if count == 1 else f"{count} workers"


def cpu_ms(peak: Peak) -> dict[str, float]:
    """CPU milliseconds per order by row of the CPU table."""
    rows = {name: peak.ms_per_order(peak.cpu.get(name, 0.0)) for name in PROCESSES}
    rows[TOTAL] = sum(rows.values())
    rows[FLOWER] = peak.ms_per_order(peak.cpu.get(FLOWER, 0.0))
    rows[APART[1]] = peak.ms_per_order(peak.bench)
    rows[APART[2]] = peak.ms_per_order(peak.machine)
    return rows


def row(run: WorkerRun) -> list[Any]:
    """One line of the main table."""
    ours = [run.workers, round(run.peak.rate, 2)]
    per_process = cpu_ms(run.peak)
    total = round(per_process[TOTAL], 1)
    if run.latency is None or run.noop is None:
        return [*ours, *[NOT_MEASURED] * 9, total, NOT_MEASURED, NOT_MEASURED]
    chains = len(run.noop.peak.latencies)
    noop_rate = chains / run.noop.peak.seconds
    noop_cpu = 1000 * sum(run.noop.cpu.values()) / chains
    stand_ins = sum(per_process[name] for name in STAND_INS)
    return [
        *ours,
        round(percentile(run.latency.to_emailed, 50), 3),
        round(percentile(run.latency.to_emailed, 99), 3),
        round(percentile(run.latency.to_shipped, 99), 3),
        round(percentile(run.latency.to_sqs, 50), 1),
        round(percentile(run.latency.to_sqs, 99), 1),
        round(noop_rate, 1),
        round(percentile(run.noop.latency.latencies, 50), 3),
        round(percentile(run.noop.latency.latencies, 99), 3),
        round(run.peak.rate / noop_rate, 3),
        total,
        round(noop_cpu, 2),
        # Below it no order can go: its tasks' Celery and Redis cost, and the stand-ins'.
        round(noop_cpu + stand_ins, 1),
    ]


def cpu_table(runs: list[WorkerRun]) -> tuple[list[str], list[list[Any]]]:
    """CPU ms per order: a row per process, a column per worker count."""
    headers = ["process", *(workers_label(run.workers) for run in runs)]
    by_run = [cpu_ms(run.peak) for run in runs]
    names = [*PROCESSES, TOTAL, *APART]
    return headers, [[name, *(round(ms[name], 2) for ms in by_run)] for name in names]


def charts(runs: list[WorkerRun]) -> list[Chart]:
    """Throughput beside the no-op floor; CPU per order by process."""
    categories = [workers_label(run.workers) for run in runs]
    series = {"orders/s": [run.peak.rate for run in runs]}
    if all(run.noop is not None for run in runs):
        series["no-op chains/s"] = [
            len(run.noop.peak.latencies) / run.noop.peak.seconds
            for run in runs
            if run.noop is not None
        ]
    names = (*PROCESSES, FLOWER)
    per_run = {workers_label(run.workers): cpu_ms(run.peak) for run in runs}
    cpu = Chart(
        "CPU ms per order by process",
        "ms per order",
        list(names),
        {label: [ms[name] for name in names] for label, ms in per_run.items()},
    )
    return [Chart("Orders/s beside the no-op chain", "per second", categories, series), cpu]


def facts(runs: list[WorkerRun], options: dict[str, Any]) -> list[tuple[str, str]]:
    """What a reader needs to compare runs."""
    first = runs[0].peak
    found = [
        ("orders per peak run", str(first.orders)),
        ("Celery tasks per order (from its follow-up rows)", str(first.tasks_per_order)),
        ("follow-ups published more than once", str(sum(r.peak.republished for r in runs))),
        ("stored orders", str(options.get("preload_orders", 0))),
        ("warehouses", str(options.get("warehouses", "?"))),
        ("PostgreSQL", "embedded" if options.get("embedded_postgres") else "local server"),
        ("payment sandbox latency", "0 s"),
        ("task events for Flower", "on" if options.get("worker_events", True) else "off"),
    ]
    shared = max(run.peak.other_clients for run in runs)
    if shared:
        found.append(("other databases' connections on the server", f"{shared} (in its row)"))
    return found


def raw(runs: list[WorkerRun]) -> list[dict[str, Any]]:
    """Every run's figures as measured, for the JSON."""
    return [dataclasses.asdict(run) for run in runs]


def publish_end_to_end(
    runs: list[WorkerRun], cpu_only: bool, options: dict[str, Any], out: Path
) -> None:
    """Print both tables; write the JSON and the PNG."""
    headers, rows = cpu_table(runs)
    result = Result(
        name="end_to_end",
        title="End to end: orders/s, latency at half peak, beside a no-op Celery chain",
        headers=HEADERS,
        rows=[row(run) for run in runs],
        facts=facts(runs, options),
        charts=charts(runs),
        extra={
            "cpu_ms_per_order": {"headers": headers, "rows": rows},
            "cpu_only": cpu_only,
            "options": {key: str(value) for key, value in options.items()},
            "runs": raw(runs),
        },
    )
    publish(result, out)
    print("\nCPU ms per order by process (user+sys over placing and draining)\n")
    print_table(headers, rows)
    print()
    print_table(["fact", "value"], result.facts)
