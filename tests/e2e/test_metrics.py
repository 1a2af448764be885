"""Metrics scraped from the real processes after real orders: values, not only names.

The processes share one METRICS_DIR, as under `make run`: the intake's /metrics shows every
process kind's counts. The dispatcher also serves its own, as it does in compose.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker

from devstack.children import Child
from devstack.commands import app_commands
from devstack.processes import free_port
from devstack.services import http_ok
from settings import Settings, as_environment, child_environment
from telemetry.instruments import messages_dispatched, order_submitted
from telemetry.processes import DISPATCHER, INTAKE, use_folder
from tests.e2e.system import final_view, of_its_own, stop_together, wait_for
from tests.factories import NEWARK, add_product, add_warehouse, order_body

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
# Flower is not what is measured here: the rest of the system, as `make run` starts it.
PROCESSES = ("intake", "dispatcher", "worker", "payments", "beat")
NEW_YORK_SPLIT = (40.7128, -74.0060)


# What a run before this one left in METRICS_DIR: each process kind empties its folder at start.
LEFTOVER = 100


def leave_counts_of_an_earlier_run(folder: str) -> None:
    """Counts an earlier intake and dispatcher left behind, each written by a process of its own."""
    recorders = {
        INTAKE: lambda: order_submitted(replayed=False),
        DISPATCHER: lambda: messages_dispatched(["started"]),
    }
    for kind, record in recorders.items():

        def earlier_run(kind: str = kind, record: Callable[[], None] = record) -> None:
            use_folder(Settings(metrics_dir=folder), kind, fresh=True)
            for _ in range(LEFTOVER):
                record()

        child = multiprocessing.get_context("fork").Process(target=earlier_run)
        child.start()
        child.join(30)
        assert child.exitcode == 0


@pytest.fixture(scope="module")
def stack(settings: Settings) -> Iterator[dict[str, str]]:
    """The system's processes on one METRICS_DIR; the dispatcher serves its own port too."""
    intake_port, dispatcher_port = free_port(), free_port()
    api = f"http://127.0.0.1:{intake_port}"
    with (
        tempfile.TemporaryDirectory(prefix="e2e-metrics-") as runtime,
        contextlib.ExitStack() as stop,
    ):
        leave_counts_of_an_earlier_run(f"{runtime}/metrics")
        # Queues of its own: messages other tests left on the shared one would be dispatched
        # here too, and counted; tasks of another stack's would be run and counted there.
        own_settings = of_its_own(settings, "metrics")
        env = child_environment(
            as_environment(own_settings)
            | {"PUBLIC_BASE_URL": api, "PYTHONUNBUFFERED": "1", "METRICS_DIR": f"{runtime}/metrics"}
        )
        commands = app_commands(intake_port, free_port(), Path(runtime), own_settings)
        children: list[Child] = []
        stop.callback(lambda: stop_together([child.stop for child in children]))
        for name in PROCESSES:
            own = env | {"METRICS_PORT": str(dispatcher_port)} if name == "dispatcher" else env
            children.append(Child(name, commands[name], own))
        wait_for(lambda: http_ok(f"{api}/readyz"), 60, children)
        yield {"api": api, "dispatcher": f"http://127.0.0.1:{dispatcher_port}/metrics"}


def scrape(url: str, settings: Settings) -> Samples:
    token = settings.metrics_token.get_secret_value()
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def post(api: str, body: dict[str, Any], key: str) -> requests.Response:
    headers = {"Idempotency-Key": key}
    return requests.post(f"{api}/orders", json=body, headers=headers, timeout=10)


def place_orders(api: str, sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    """Four orders from one warehouse (one sent twice), one split over two, one declined."""
    bed, lamp = add_product(sessions), add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 20})
    add_warehouse(
        sessions, latitude=NEW_YORK_SPLIT[0], longitude=NEW_YORK_SPLIT[1], stock={lamp: 5}
    )
    bodies = [order_body([(bed, 1)]) for _ in range(4)]
    bodies += [order_body([(bed, 1), (lamp, 1)])]
    bodies += [order_body([(bed, 1)], payment_method="pm_card_chargeDeclined")]
    keys = [f'"{uuid.uuid4()}"' for _ in bodies]
    placed = []
    for body, key in zip(bodies, keys, strict=True):
        response = post(api, body, key)
        assert response.status_code == 202, response.text
        placed.append(response.json())
    replay = post(api, bodies[0], keys[0])
    assert replay.headers.get("Idempotent-Replayed") == "true"
    return placed


def mailed(samples: Samples) -> Samples | None:
    """The samples once every mail the test counts went out: a mail goes out after its
    order's status moved, so a final status does not mean its mail was sent."""
    wanted = {"shipped": 5, "received": 6, "payment_failed": 1}
    sent = {k: value(samples, "fulfillment_mails_total", kind=k, outcome="sent") for k in wanted}
    return samples if all(sent[k] >= n for k, n in wanted.items()) else None


def test_the_scraped_metrics_count_what_the_processes_did_with_real_orders(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session]
) -> None:
    placed = place_orders(stack["api"], sessions)
    views = [final_view(order) for order in placed]
    assert [v["status"] for v in views] == ["shipped"] * 5 + ["payment_failed"]

    samples = wait_for(lambda: mailed(scrape(f"{stack['api']}/metrics", settings)), 30)
    counts = {
        "accepted": value(samples, "fulfillment_orders_submitted_total", outcome="accepted"),
        "replayed": value(samples, "fulfillment_orders_submitted_total", outcome="replayed"),
        "posts answered 202": value(
            samples, "fulfillment_http_requests_total", route="/orders", method="POST", status="202"
        ),
        "posts timed": value(
            samples,
            "fulfillment_http_request_duration_seconds_count",
            route="/orders",
            method="POST",
        ),
    }
    assert counts == {"accepted": 6, "replayed": 1, "posts answered 202": 7, "posts timed": 7}
    reads = value(
        samples,
        "fulfillment_http_requests_total",
        route="/orders/<order_id>",
        method="GET",
        status="200",
    )
    assert reads >= 6
    assert not [k for k in samples if any(v["order_id"] in str(k) for v in placed)]
    assert_pipeline_counts(samples)


def assert_pipeline_counts(samples: Samples) -> None:
    """What the dispatcher and the workers recorded, merged by the intake's /metrics."""
    # The counts an earlier run left are gone: each process kind emptied its folder at start.
    assert (
        6 <= value(samples, "fulfillment_dispatched_messages_total", outcome="started") < LEFTOVER
    )
    assert value(samples, "fulfillment_step_runs_total", step="allocate", outcome="done") >= 6
    assert value(samples, "fulfillment_step_duration_seconds_count", step="allocate") >= 6
    assert value(samples, "fulfillment_step_duration_seconds_sum", step="allocate") > 0
    assert value(samples, "fulfillment_step_runs_total", step="ship", outcome="done") >= 5
    assert value(samples, "fulfillment_allocation_decisions_total", decision="single") >= 5
    assert value(samples, "fulfillment_allocation_decisions_total", decision="split") >= 1
    assert value(samples, "fulfillment_payment_attempts_total", outcome="paid") >= 5
    assert value(samples, "fulfillment_payment_attempts_total", outcome="declined") >= 1
    assert value(samples, "fulfillment_mails_total", kind="received", outcome="sent") >= 6
    assert value(samples, "fulfillment_mails_total", kind="payment_failed", outcome="sent") >= 1
    assert value(samples, "fulfillment_orders", status="shipped") >= 5
    assert value(samples, "fulfillment_sqs_up") == 1


def test_the_dispatcher_serves_its_own_counts_behind_the_metrics_token(
    stack: dict[str, str], settings: Settings, sessions: sessionmaker[Session]
) -> None:
    bed = add_product(sessions)
    add_warehouse(sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 5})
    before = value(
        scrape(stack["dispatcher"], settings),
        "fulfillment_dispatched_messages_total",
        outcome="started",
    )

    response = post(stack["api"], order_body([(bed, 1)]), f'"{uuid.uuid4()}"')
    view = final_view(response.json())

    after = scrape(stack["dispatcher"], settings)
    # Ours counted once; the system's other orders may have had messages meanwhile (a
    # carrier's delivery of an earlier test's parcels is one), so the count may grow more.
    assert [e["event"] for e in view["timeline"]].count("dispatched") == 1
    assert value(after, "fulfillment_dispatched_messages_total", outcome="started") >= before + 1
    assert ("fulfillment_step_runs_total", (("outcome", "done"), ("step", "allocate"))) not in after
    assert requests.get(stack["dispatcher"], timeout=10).status_code == 401
