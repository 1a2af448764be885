"""bench.growth still runs: one tiny pair, with orders stored beforehand, writes its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import growth

pytestmark = pytest.mark.e2e


def test_a_tiny_pair_writes_positive_figures_and_a_chart(tmp_path: Path) -> None:
    tiny = ["--pairs", "50:4", "--workers", "1", "--orders", "6", "--warmup-orders", "2"]
    growth.main([*tiny, "--out", str(tmp_path), "--logs", str(tmp_path)])

    document = json.loads((tmp_path / "growth.json").read_text())
    [row] = document["rows"]
    figures = dict(zip(document["headers"], row, strict=True))
    assert (figures["stored orders"], figures["warehouses"]) == (50, 4)
    assert figures["orders/s"] > 0
    assert figures["CPU ms/order"] > 0
    assert (tmp_path / "growth.png").stat().st_size > 0
