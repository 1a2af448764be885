"""Counts from many processes, merged: prometheus_client's multiprocess mode as set up here.

Each process runs in a forked child, as gunicorn's and Celery's pool processes do, so this
test process's own metrics stay in its memory.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import requests
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from devstack.processes import free_port
from settings import Settings
from telemetry.instruments import request_answered, step_ran
from telemetry.processes import recorded, use_folder
from telemetry.serving import serve_metrics

FORK = multiprocessing.get_context("fork")


def in_a_child(work: Callable[[], None]) -> None:
    child = FORK.Process(target=work)
    child.start()
    child.join(30)
    assert child.exitcode == 0


def steps_done(settings: Settings, kind: str | None = None) -> float:
    """fulfillment_step_runs_total{step="allocate",outcome="done"} as a scrape would merge it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(recorded(settings, kind))
    value = registry.get_sample_value(
        "fulfillment_step_runs_total", {"step": "allocate", "outcome": "done"}
    )
    return value or 0.0


def record_steps(settings: Settings, kind: str, runs: int, *, fresh: bool = False) -> None:
    def work() -> None:
        use_folder(settings, kind, fresh=fresh)
        for _ in range(runs):
            step_ran("allocate", "done", 0.01)

    in_a_child(work)


def test_the_counts_of_every_process_of_every_kind_are_summed(tmp_path: Path) -> None:
    settings = Settings(metrics_dir=str(tmp_path))

    record_steps(settings, "worker@host", 3, fresh=True)
    record_steps(settings, "worker@host", 4)
    record_steps(settings, "payments@host", 5, fresh=True)

    assert steps_done(settings) == 12
    assert steps_done(settings, "worker@host") == 7
    assert steps_done(settings, "payments@host") == 5


def test_values_held_in_memory_before_the_folder_was_picked_are_recorded_there_after(
    tmp_path: Path,
) -> None:
    settings = Settings(metrics_dir=str(tmp_path))

    def work() -> None:
        step_ran("allocate", "done", 0.01)  # before: in this process's memory only
        use_folder(settings, "worker@host", fresh=True)
        step_ran("allocate", "done", 0.01)
        step_ran("allocate", "done", 0.01)

    in_a_child(work)

    assert steps_done(settings) == 2


def test_a_kind_that_starts_afresh_empties_its_own_folder_only(tmp_path: Path) -> None:
    settings = Settings(metrics_dir=str(tmp_path))
    record_steps(settings, "worker@host", 3, fresh=True)
    record_steps(settings, "payments@host", 5, fresh=True)

    record_steps(settings, "worker@host", 1, fresh=True)

    assert steps_done(settings) == 6
    assert steps_done(settings, "worker@host") == 1


def parsed(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_kind_with_a_port_serves_its_folder_behind_the_metrics_token(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(metrics_dir=str(tmp_path), metrics_port=port)
    ready, done = FORK.Event(), FORK.Event()

    def dispatcher() -> None:
        assert serve_metrics(settings, "dispatcher") == port
        request_answered("/orders", "POST", 202, 0.02)
        step_ran("allocate", "done", 0.5)
        ready.set()
        done.wait(30)

    child = FORK.Process(target=dispatcher)
    child.start()
    try:
        assert ready.wait(30)
        url = f"http://127.0.0.1:{port}/metrics"
        token = settings.metrics_token.get_secret_value()
        refused = requests.get(url, timeout=5)
        answer = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    finally:
        done.set()
        child.join(30)

    assert (refused.status_code, answer.status_code) == (401, 200)
    samples = parsed(answer.text)
    step = (("step", "allocate"),)
    assert samples[("fulfillment_step_runs_total", (("outcome", "done"), *step))] == 1
    assert samples[("fulfillment_step_duration_seconds_count", step)] == 1
    assert samples[("fulfillment_step_duration_seconds_sum", step)] == 0.5
    post = (("method", "POST"), ("route", "/orders"), ("status", "202"))
    assert samples[("fulfillment_http_requests_total", post)] == 1
