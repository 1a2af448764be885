"""The compose fleet: a worker per queue, each on the pool its work needs, stopped in time."""

from __future__ import annotations

import re

import pytest

from settings import Settings
from tests.unit.test_compose import ROOT, SERVICES, WORKERS, command_line, environment, option
from workers.celery_queues import PAYMENTS, QUEUES

# How each queue's work spends its time, and so which pool serves it.
CPU_BOUND = {"allocation", "shipping", "maintenance"}
WAITS_ON_THE_NETWORK = {PAYMENTS, "notifications", "webhooks"}
# What a worker past its grace needs to hand its tasks back before Docker's SIGKILL.
STOP_MARGIN_SECONDS = 10
HOLDS_WORK = ["intake", "dispatcher", *WORKERS]


def test_every_queue_is_consumed_by_exactly_one_worker_service() -> None:
    consumed = [
        option(command_line(SERVICES[name]["command"]), "-Q", "--queues") or "" for name in WORKERS
    ]
    assert sorted(consumed) == sorted(QUEUES)
    assert set(WORKERS) <= set(SERVICES)


@pytest.mark.parametrize(("service", "queue"), WORKERS.items())
def test_each_queue_runs_on_the_pool_its_work_calls_for(service: str, queue: str) -> None:
    pool = option(command_line(SERVICES[service]["command"]), "-P", "--pool")
    if queue in CPU_BOUND:
        assert pool in {None, "prefork"}
    else:
        assert queue in WAITS_ON_THE_NETWORK
        assert pool in {"threads", "gevent"}


def seconds(duration: str) -> int:
    """A compose duration such as 70s or 1m10s, in seconds."""
    parts = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert duration
    assert parts is not None, duration
    return int(parts.group(1) or 0) * 60 + int(parts.group(2) or 0)


@pytest.mark.parametrize("name", HOLDS_WORK)
def test_each_process_holding_work_gets_its_grace_before_it_is_killed(name: str) -> None:
    env = environment(SERVICES[name])
    grace = int(
        env.get("SHUTDOWN_GRACE_SECONDS", Settings.model_fields["shutdown_grace_seconds"].default)
    )
    assert seconds(SERVICES[name]["stop_grace_period"]) == grace + STOP_MARGIN_SECONDS


def test_the_intake_takes_its_shutdown_grace_from_the_gunicorn_config() -> None:
    line = command_line(SERVICES["intake"]["command"])
    assert option(line, "-c", "--config") == "python:intake.gunicorn_conf"
    assert (ROOT / "intake" / "gunicorn_conf.py").is_file()


@pytest.mark.parametrize("name", WORKERS)
def test_every_worker_reaches_the_gateway_and_the_mail_server(name: str) -> None:
    assert {"paysandbox", "mailpit"} <= set(SERVICES[name]["depends_on"])
