"""What the processes count: requests by URL rule, step runs, mails, charges, allocations."""

from __future__ import annotations

import uuid

import pytest
from celery.exceptions import Retry
from flask import Flask

from intake.request_metrics import install_request_metrics
from models.domain.allocation import Outcome
from models.services.allocate import Allocated, AllocationResult
from telemetry.instruments import REGISTRY
from workers.metrics import allocation_decided, observed


def value(name: str, **labels: str) -> float:
    """A sample's value in this process's registry, 0 when it was never recorded."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def counted(name: str, **labels: str) -> float:
    return value(f"{name}_total", **labels)


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    install_request_metrics(app)

    @app.get("/things/<thing_id>")
    def thing(thing_id: str) -> str:
        return thing_id

    @app.post("/things")
    def refuse() -> tuple[str, int]:
        return "no", 422

    return app


def test_requests_are_counted_by_url_rule_never_by_path(app: Flask) -> None:
    route = {"route": "/things/<thing_id>", "method": "GET"}
    before = counted("fulfillment_http_requests", **route, status="200")
    timed = value("fulfillment_http_request_duration_seconds_count", **route)

    for _ in range(3):
        assert app.test_client().get(f"/things/{uuid.uuid4()}").status_code == 200

    assert counted("fulfillment_http_requests", **route, status="200") == before + 3
    assert value("fulfillment_http_request_duration_seconds_count", **route) == timed + 3
    paths = [
        s.labels["route"]
        for metric in REGISTRY.collect()
        for s in metric.samples
        if "route" in s.labels
    ]
    assert not any(p.startswith("/things/") and p != "/things/<thing_id>" for p in paths)


def test_a_request_is_counted_with_the_status_it_got(app: Flask) -> None:
    labels = {"route": "/things", "method": "POST", "status": "422"}
    before = counted("fulfillment_http_requests", **labels)

    app.test_client().post("/things")

    assert counted("fulfillment_http_requests", **labels) == before + 1


def test_unknown_paths_and_odd_methods_share_one_series_each(app: Flask) -> None:
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    odd = {"route": "unmatched", "method": "other", "status": "404"}
    before = (
        counted("fulfillment_http_requests", **unmatched),
        counted("fulfillment_http_requests", **odd),
    )

    client = app.test_client()
    client.get(f"/nothing/{uuid.uuid4()}")
    client.open(f"/nothing/{uuid.uuid4()}", method="BREW")

    assert counted("fulfillment_http_requests", **unmatched) == before[0] + 1
    assert counted("fulfillment_http_requests", **odd) == before[1] + 1


def run(task: str, result: object, *args: object) -> object:
    with observed(task, tuple(args)) as seen:
        return seen(result)


def test_a_step_that_ends_is_counted_done_and_timed() -> None:
    done = counted("fulfillment_step_runs", step="allocate", outcome="done")
    timed = value("fulfillment_step_duration_seconds_count", step="allocate")

    assert run("fulfillment.allocate", "allocated", "order") == "allocated"

    assert counted("fulfillment_step_runs", step="allocate", outcome="done") == done + 1
    assert value("fulfillment_step_duration_seconds_count", step="allocate") == timed + 1


def test_a_step_rescheduled_on_its_row_counts_a_retry() -> None:
    retries = counted("fulfillment_step_retries", step="ship", by="row")
    later = counted("fulfillment_step_runs", step="ship", outcome="retry_later")

    run("fulfillment.ship", "retry_later", "order")

    assert counted("fulfillment_step_retries", step="ship", by="row") == retries + 1
    assert counted("fulfillment_step_runs", step="ship", outcome="retry_later") == later + 1


def test_a_celery_retry_is_counted_and_still_raised() -> None:
    retries = counted("fulfillment_step_retries", step="allocate", by="celery")

    with pytest.raises(Retry), observed("fulfillment.allocate", ("order",)):
        raise Retry("database away")

    assert counted("fulfillment_step_retries", step="allocate", by="celery") == retries + 1


def test_a_step_that_raises_anything_else_is_counted_as_an_error() -> None:
    errors = counted("fulfillment_step_runs", step="charge", outcome="error")

    with pytest.raises(RuntimeError), observed("fulfillment.charge", ("order",)):
        raise RuntimeError("surprise")

    assert counted("fulfillment_step_runs", step="charge", outcome="error") == errors + 1


def test_mails_are_counted_by_kind_and_outcome() -> None:
    sent = counted("fulfillment_mails", kind="shipped", outcome="sent")
    retried = counted("fulfillment_mails", kind="shipped", outcome="retried")
    rejected = counted("fulfillment_mails", kind="paid", outcome="rejected")

    run("fulfillment.notify", "sent", "order", "shipped")
    run("fulfillment.notify", "retry_later", "order", "shipped")
    run("fulfillment.notify", "rejected", "order", "paid")

    assert counted("fulfillment_mails", kind="shipped", outcome="sent") == sent + 1
    assert counted("fulfillment_mails", kind="shipped", outcome="retried") == retried + 1
    assert counted("fulfillment_mails", kind="paid", outcome="rejected") == rejected + 1


def test_charges_count_attempts_by_outcome_but_not_skipped_runs() -> None:
    outcomes = ("paid", "declined", "retried", "skipped")
    before = {o: counted("fulfillment_payment_attempts", outcome=o) for o in outcomes}

    for result in ("paid", "declined", "retry_later", "skipped"):
        run("fulfillment.charge", result, "order")

    after = {o: counted("fulfillment_payment_attempts", outcome=o) for o in outcomes}
    assert {o: after[o] - before[o] for o in outcomes} == {
        "paid": 1,
        "declined": 1,
        "retried": 1,
        "skipped": 0,
    }


def test_allocation_decisions_are_counted_by_their_shape() -> None:
    names = ("single", "split", "backorder", "reject")
    before = {d: counted("fulfillment_allocation_decisions", decision=d) for d in names}

    for result in (
        AllocationResult(Allocated.ALLOCATED, shape=Outcome.SINGLE),
        AllocationResult(Allocated.ALLOCATED, shape=Outcome.SPLIT),
        AllocationResult(Allocated.ALLOCATED, shape=Outcome.SPLIT),
        AllocationResult(Allocated.BACKORDERED),
        AllocationResult(Allocated.REJECTED),
        AllocationResult(Allocated.STILL_SHORT),
        AllocationResult(Allocated.SKIPPED),
    ):
        allocation_decided(result)

    moved = {d: counted("fulfillment_allocation_decisions", decision=d) - before[d] for d in names}
    assert moved == {"single": 1, "split": 2, "backorder": 1, "reject": 1}
