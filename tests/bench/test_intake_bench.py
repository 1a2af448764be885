"""The intake benchmark, end to end with tiny numbers: both endpoints measured, figures written."""

from __future__ import annotations

import json
from pathlib import Path

from bench import intake


def test_the_intake_benchmark_measures_both_endpoints_and_writes_its_figures(
    tmp_path: Path,
) -> None:
    intake.main(
        ["--connections", "1,2", "--seconds", "1", "--warmup", "0.3", "--out", str(tmp_path)]
    )

    document = json.loads((tmp_path / "intake.json").read_text())
    rows = [dict(zip(document["headers"], row, strict=True)) for row in document["rows"]]
    assert [row["connections"] for row in rows] == [1, 2]
    for row in rows:
        assert row["ours req/s"] > 0
        assert row["minimal req/s"] > 0
        assert row["ratio"] == round(row["ours req/s"] / row["minimal req/s"], 3)
        # No intake can sustain more orders than the SQS server takes messages.
        ceiling = document["commit_to_sqs"]["server_limit_per_s"] / row["minimal req/s"]
        assert row["SQS ceiling"] == round(ceiling, 3) > 0
    runs = document["runs"]
    assert {(run["endpoint"], run["connections"]) for run in runs} == {
        (endpoint, connections) for endpoint in ("intake", "minimal") for connections in (1, 2)
    }
    assert all(set(run["statuses"]) == {"202"} for run in runs)
    lag = document["commit_to_sqs"]
    assert lag["unsent"] == 0  # the background publisher got every order's message to SQS
    assert 0 < lag["p50_ms"] <= lag["p99_ms"]
    assert (tmp_path / "intake.png").stat().st_size > 0
