"""bench.end_to_end still runs: a tiny run writes positive figures and its chart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import end_to_end

pytestmark = pytest.mark.e2e


def test_a_tiny_run_writes_positive_figures_and_a_chart(tmp_path: Path) -> None:
    tiny = ["--workers", "1", "--orders", "6", "--latency-orders", "4", "--warmup-orders", "2"]
    end_to_end.main([*tiny, "--warehouses", "3", "--out", str(tmp_path), "--logs", str(tmp_path)])

    document = json.loads((tmp_path / "end_to_end.json").read_text())
    [row] = document["rows"]
    figures = dict(zip(document["headers"], row, strict=True))
    assert figures["workers"] == 1
    measured = ("orders/s", "p50 s", "p99 s", "to SQS p50 ms", "no-op chains/s", "ratio")
    for name in (*measured, "CPU ms/order"):
        assert figures[name] > 0, name
    cpu = {name: values[0] for name, *values in document["cpu_ms_per_order"]["rows"]}
    assert cpu["worker"] > 0
    assert cpu["intake"] > 0
    # The floor: the no-op chain's CPU and what the stand-ins spent on the order's work.
    stand_ins = cpu["moto"] + cpu["smtp sink"] + cpu["payment sandbox"]
    assert stand_ins > 0
    assert figures["floor CPU ms/order"] == pytest.approx(
        figures["no-op CPU ms/chain"] + stand_ins, abs=0.1
    )
    assert document["facts"]["Celery tasks per order (from its follow-up rows)"] == "6"
    assert (tmp_path / "end_to_end.png").stat().st_size > 0
