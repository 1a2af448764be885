"""bench.allocation still runs: a tiny run writes its figures, beside the end-to-end rate."""

from __future__ import annotations

import json
from pathlib import Path

from bench import allocation


def test_a_tiny_run_writes_positive_figures_beside_the_end_to_end_rate(tmp_path: Path) -> None:
    earlier = {"headers": ["workers", "orders/s"], "rows": [[1, 7.5]]}
    (tmp_path / "end_to_end.json").write_text(json.dumps(earlier))

    allocation.main(["--orders", "20", "--threads", "2", "--out", str(tmp_path)])

    document = json.loads((tmp_path / "allocation.json").read_text())
    rows = [dict(zip(document["headers"], row, strict=True)) for row in document["rows"]]
    assert {(row["scenario"], row["threads"]) for row in rows} == {
        ("hot", 1),
        ("hot", 2),
        ("spread", 1),
        ("spread", 2),
    }
    assert all(row["allocations/s"] > 0 and row["bare updates/s"] > 0 for row in rows)
    [chart] = document["charts"]
    assert chart["series"]["end-to-end orders/s"] == [7.5] * 4
    assert (tmp_path / "allocation.png").stat().st_size > 0
