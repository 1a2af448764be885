"""The scrape-time collectors and the guard in front of a worker's /metrics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from wsgiref.util import setup_testing_defaults

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics import MetricWrapperBase

from intake.queue_depth import QueueCollector
from telemetry import instruments
from telemetry.serving import guarded


def scraped(collector: QueueCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for metric in registry.collect()
        for s in metric.samples
    }


def test_the_queue_depths_are_gauges_with_sqs_up() -> None:
    samples = scraped(QueueCollector(lambda: {"orders": 7, "dlq": 2}))

    assert samples == {
        ("fulfillment_sqs_messages", (("queue", "dlq"),)): 2,
        ("fulfillment_sqs_messages", (("queue", "orders"),)): 7,
        ("fulfillment_sqs_up", ()): 1,
    }


def test_a_scrape_with_sqs_away_answers_with_sqs_up_at_zero_and_no_depths() -> None:
    def away() -> dict[str, int]:
        raise ConnectionError("nobody listens")

    registry = CollectorRegistry(auto_describe=False)
    registry.register(QueueCollector(away))

    text = generate_latest(registry).decode()
    assert "fulfillment_sqs_up 0.0" in text
    assert "fulfillment_sqs_messages{" not in text


def test_every_counter_and_histogram_has_labels_so_none_holds_a_value_before_its_folder() -> None:
    metrics = [m for m in vars(instruments).values() if isinstance(m, MetricWrapperBase)]

    assert len(metrics) >= 10
    assert [m for m in metrics if not m._labelnames] == []
    assert set(metrics) == set(instruments.METRICS)


def call(app: Any, path: str, authorization: str | None) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path}
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    setup_testing_defaults(environ)
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen.append(status)

    body: Iterable[bytes] = app(environ, start_response)
    return seen[0], b"".join(body)


BODY = b"fulfillment_step_runs_total 1\n"


def metrics_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [BODY]


def test_a_workers_metrics_answer_only_the_metrics_token() -> None:
    app = guarded(metrics_app, "s3cret-token")

    assert call(app, "/metrics", "Bearer s3cret-token") == ("200 OK", BODY)
    for wrong in (None, "Bearer wrong", "s3cret-token", "Basic s3cret-token"):
        status, body = call(app, "/metrics", wrong)
        assert status.startswith("401")
        assert b"fulfillment" not in body


def test_a_workers_metrics_server_answers_nothing_else() -> None:
    status, _ = call(guarded(metrics_app, "t"), "/other", "Bearer t")

    assert status.startswith("404")
