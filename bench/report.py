"""How every benchmark reports: a table on stdout, the figures as JSON, and a PNG chart."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support import print_table
from devstack.processes import REPO_ROOT

DEFAULT_OUT = REPO_ROOT / ".bench"


@dataclass
class Chart:
    """Grouped bars: one group per category, one bar per series (ours beside its limit, say)."""

    title: str
    ylabel: str
    categories: list[str]
    series: dict[str, list[float]]


@dataclass
class Result:
    """One benchmark's figures: a table, the facts a reader needs to compare runs, a chart."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    facts: list[tuple[str, str]] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    # Anything else worth keeping in the JSON (raw samples, settings of the run).
    extra: dict[str, Any] = field(default_factory=dict)


def publish(result: Result, out: Path = DEFAULT_OUT) -> tuple[Path, Path | None]:
    """Print the table, write `<out>/<name>.json` and, if it has charts, `<out>/<name>.png`."""
    print(f"\n{result.title}\n")
    print_table(result.headers, result.rows)
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "name": result.name,
        "title": result.title,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "facts": dict(result.facts),
        "headers": result.headers,
        "rows": result.rows,
        "charts": [asdict(chart) for chart in result.charts],
        **result.extra,
    }
    json_path = out / f"{result.name}.json"
    json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    png_path = draw(result.charts, out / f"{result.name}.png") if result.charts else None
    print(f"\nwrote {json_path}" + (f" and {png_path}" if png_path else ""))
    return json_path, png_path


def draw(charts: Sequence[Chart], path: Path) -> Path:
    """The charts side by side in one PNG."""
    import matplotlib  # noqa: PLC0415 - heavy, and only the benchmarks draw

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(1, len(charts), figsize=(6 * len(charts), 4.2), squeeze=False)
    for ax, chart in zip(axes[0], charts, strict=True):
        _bars(ax, chart)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return path


def _bars(ax: Any, chart: Chart) -> None:
    count = max(len(chart.series), 1)
    width = 0.8 / count
    for index, (label, values) in enumerate(chart.series.items()):
        offsets = [i + (index - (count - 1) / 2) * width for i in range(len(chart.categories))]
        bars = ax.bar(offsets, values, width, label=label)
        ax.bar_label(bars, fmt="%.0f" if max(values, default=0) >= 10 else "%.2f", fontsize=7)
    # Many categories (processes, say), or long ones, only fit slanted.
    crowded = len(chart.categories) > 5 or sum(map(len, chart.categories)) > 48
    slanted = {"rotation": 30, "ha": "right"} if crowded else {}
    ax.set_xticks(range(len(chart.categories)), chart.categories, **slanted)
    ax.set_title(chart.title)
    ax.set_ylabel(chart.ylabel)
    ax.legend(fontsize=8)
