"""The command lines of the system's own processes, shared by the runner and the tests."""

from __future__ import annotations

import sys
from pathlib import Path

from settings import Settings
from workers.celery_queues import PAYMENTS, QUEUES, queue_name


def python_module(module: str, *args: str) -> list[str]:
    """Run a module with this interpreter, so the virtual environment is the one in use."""
    return [sys.executable, "-m", module, *args]


# Prefork children of the general worker: allocation, shipping and mail are mostly CPU.
GENERAL_CONCURRENCY = 4


def celery_worker(
    queues: list[str], node: str, *pool: str, app: str = "workers.app", events: bool = True
) -> list[str]:
    """A worker of `app` on just these queues, named `node@host` so Flower tells them apart.

    With `events`, it sends task events for Flower from its start (`-E`).
    """
    named = ["-Q", ",".join(queues), "-n", f"{node}@%h", *(["-E"] if events else [])]
    return python_module("celery", "-A", app, "worker", *named, *pool, "--loglevel", "INFO")


def web_flags() -> list[str]:
    """How the intake's gunicorn runs locally: processes, threads, logging (not where it binds)."""
    # No control socket: it would live in the home folder, shared by every run. The config file
    # holds what SIGTERM does and the log format (intake/gunicorn_conf.py), as in compose.
    # No access log of its own: the intake logs one line per request (intake/request_log.py).
    return [
        *("--config", "python:intake.gunicorn_conf"),
        *("--workers", "2", "--threads", "4", "--no-control-socket"),
    ]


def web_server(port: int, app: str, *flags: str) -> list[str]:
    """Gunicorn serving the WSGI `app` ("module:factory()") on 127.0.0.1:`port` with web_flags."""
    return python_module("gunicorn", "--bind", f"127.0.0.1:{port}", *web_flags(), *flags, app)


def worker_queues(settings: Settings) -> dict[str, list[str]]:
    """The queues each worker consumes: payments on its own worker, everything else on one."""
    prefix = settings.celery_queue_prefix
    general = [queue_name(prefix, name) for name in QUEUES if name != PAYMENTS]
    return {"worker": general, "payments": [queue_name(prefix, PAYMENTS)]}


def app_commands(
    intake_port: int,
    flower_port: int,
    runtime: Path,
    settings: Settings,
    concurrency: int = GENERAL_CONCURRENCY,
) -> dict[str, list[str]]:
    """The long-running processes by name: intake, dispatcher, two workers, beat, Flower.

    `concurrency` is the general worker's; the benchmarks vary it, everything else keeps it.
    """
    celery = python_module("celery", "-A", "workers.app")
    queues = worker_queues(settings)
    schedule = str(runtime / "beat-schedule")
    threads = ["--pool", "threads", "--concurrency", str(settings.payments_concurrency)]
    return {
        "intake": web_server(intake_port, "intake:create_app()"),
        "dispatcher": python_module("workers.dispatcher"),
        "worker": celery_worker(
            queues["worker"],
            "worker",
            "--concurrency",
            str(concurrency),
            events=settings.worker_events,
        ),
        # Charges mostly wait on the gateway: threads overlap those waits, and a slow gateway
        # holds up only this queue while the general worker keeps the other steps moving.
        "payments": celery_worker(
            queues["payments"], "payments", *threads, events=settings.worker_events
        ),
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", schedule],
        "flower": python_module("workers.flower", "--address=127.0.0.1", f"--port={flower_port}"),
    }


def flower_environment(env: dict[str, str], settings: Settings) -> dict[str, str]:
    """Flower's login through its environment, so the password stays out of `ps`."""
    # Flower takes every FLOWER_* variable for an option and dies on unknown ones
    # such as our FLOWER_USER and FLOWER_PASSWORD settings.
    cleaned = {key: value for key, value in env.items() if not key.startswith("FLOWER_")}
    login = f"{settings.flower_user}:{settings.flower_password.get_secret_value()}"
    return cleaned | {"FLOWER_BASIC_AUTH": login}
