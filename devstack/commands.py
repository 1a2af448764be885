"""The command lines of the system's own processes, shared by the runner and the tests."""

from __future__ import annotations

import sys
from pathlib import Path

from settings import Settings


def python_module(module: str, *args: str) -> list[str]:
    """Run a module with this interpreter, so the virtual environment is the one in use."""
    return [sys.executable, "-m", module, *args]


def app_commands(intake_port: int, flower_port: int, runtime: Path) -> dict[str, list[str]]:
    """The long-running processes by name: intake, dispatcher, worker, beat, Flower."""
    celery = python_module("celery", "-A", "workers.app")
    # No control socket: it would live in the home folder, shared by every run.
    web = ["--workers", "2", "--threads", "4", "--access-logfile", "-", "--no-control-socket"]
    schedule = str(runtime / "beat-schedule")
    return {
        "intake": python_module(
            "gunicorn", "--bind", f"127.0.0.1:{intake_port}", *web, "intake:create_app()"
        ),
        "dispatcher": python_module("workers.dispatcher"),
        # Without -Q a worker consumes every queue celeryconfig declares.
        "worker": [*celery, "worker", "--loglevel", "INFO", "--concurrency", "4", "-E"],
        "beat": [*celery, "beat", "--loglevel", "INFO", "--schedule", schedule],
        "flower": [*celery, "flower", "--address=127.0.0.1", f"--port={flower_port}"],
    }


def flower_environment(env: dict[str, str], settings: Settings) -> dict[str, str]:
    """Flower's login through its environment, so the password stays out of `ps`."""
    # Flower takes every FLOWER_* variable for an option and dies on unknown ones
    # such as our FLOWER_USER and FLOWER_PASSWORD settings.
    cleaned = {key: value for key, value in env.items() if not key.startswith("FLOWER_")}
    login = f"{settings.flower_user}:{settings.flower_password.get_secret_value()}"
    return cleaned | {"FLOWER_BASIC_AUTH": login}
