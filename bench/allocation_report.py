"""The allocation benchmark's report: its table, JSON and chart, beside the end-to-end rate."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report


def end_to_end_rate(out: Path) -> float | None:
    """Orders/s of the last end-to-end run written to `out` (its fewest workers), if any."""
    path = out / "end_to_end.json"
    if not path.exists():
        return None
    document = json.loads(path.read_text())
    rows = [dict(zip(document["headers"], row, strict=True)) for row in document["rows"]]
    rates = [row["orders/s"] for row in rows if isinstance(row.get("orders/s"), int | float)]
    return float(rates[0]) if rates else None


def publish(rows: list[tuple[object, ...]], facts: list[tuple[str, str]], out: Path) -> None:
    """The table, JSON and chart: allocations/s beside the bare UPDATE and the whole pipeline."""
    rate = end_to_end_rate(out)
    categories = [f"{name}, {threads} thr" for name, threads, *_ in rows]
    series = {
        "allocations/s": [float(str(row[2])) for row in rows],
        "bare updates/s": [float(str(row[3])) for row in rows],
    }
    if rate is not None:
        # The step is one of six an order runs: this shows how far it is from the bottleneck.
        series["end-to-end orders/s"] = [rate] * len(rows)
        facts = [*facts, ("end-to-end orders/s (last run in this folder)", f"{rate:.1f}")]
    headers = ["scenario", "threads", "allocations/s", "bare updates/s", "ratio", "rows/order"]
    chart = report.Chart("Allocation beside its limit", "per second", categories, series)
    title = "Allocation: allocations/s beside the bare conditional UPDATE"
    report.publish(
        report.Result("allocation", title, headers, [list(r) for r in rows], facts, [chart]),
        out,
    )
