"""Run the whole system locally with one command: `python -m devstack.run [--demo]`."""

from __future__ import annotations

import argparse
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from devstack.banner import banner
from devstack.children import Child, say
from devstack.commands import app_commands, flower_environment, python_module
from devstack.mailbox import DEFAULT_MAILDIR
from devstack.processes import RunningService, preferred_port
from devstack.services import (
    http_ok,
    postgres_answers,
    redis_answers,
    start_moto,
    start_payment_sandbox,
    start_postgres,
    start_redis,
    start_smtp_sink,
)
from devstack.supervisor import Supervisor, how_it_ended, watch
from settings import Settings, child_environment, get_settings

DEFAULT_PORTS = {
    "postgres": 54329,
    "redis": 63790,
    "moto": 4566,
    "smtp": 1025,
    "paysandbox": 12111,
    "intake": 8000,
    "flower": 5555,
}
SETUP_STEPS = {
    "migrate": "models.tables.migrate",
    "queues": "workers.create_queues",
    "seed": "devstack.seed",
}
READY_TIMEOUT = 90.0
# `make demo` places 300 orders from this machine's one address within seconds.
LOCAL_ORDER_CREATION_LIMIT = "1200/minute"


@dataclass
class Stack:
    """Everything the runner started, stopped in reverse order: children, then services."""

    services: list[RunningService] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every child and service this run started; safe to call twice."""
        while self.children:
            self.children.pop().stop()
        while self.services:
            self.services.pop().stop()
        while self.folders:
            shutil.rmtree(self.folders.pop(), ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, keep it up until Ctrl-C or SIGTERM, stop it; 1 if it could not go on."""
    args = _arguments(argv)
    stopping = threading.Event()
    _stop_on_signals(stopping)
    stack = Stack()
    try:
        return _run(args, get_settings(), stack, stopping)
    except (RuntimeError, TimeoutError) as error:
        say(f"devstack: {error}")
        return 1
    finally:
        say("devstack: stopping everything ...")
        stack.stop()
        say("devstack: stopped.")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", action="store_true", help="place demo orders once ready")
    parser.add_argument(
        "--use-configured",
        action="store_true",
        help="use the database, Redis, SQS, SMTP and payment API from the settings",
    )
    return parser.parse_args(argv)


def _stop_on_signals(stopping: threading.Event) -> None:
    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def _run(
    args: argparse.Namespace, settings: Settings, stack: Stack, stopping: threading.Event
) -> int:
    overrides = _configured(settings) if args.use_configured else _embedded(settings, stack)
    intake_port = preferred_port(DEFAULT_PORTS["intake"])
    flower_port = preferred_port(DEFAULT_PORTS["flower"])
    api = f"http://127.0.0.1:{intake_port}"
    overrides |= {"public_base_url": api, "pythonunbuffered": "1"} | _local_limits(settings)
    env = child_environment(overrides)
    for name, module in SETUP_STEPS.items():
        if not _setup_step(name, module, env, stopping):
            return 0 if stopping.is_set() else 1
    runtime = Path(tempfile.mkdtemp(prefix="devstack-run-"))
    stack.folders.append(runtime)
    # One host: every process records under one folder, and the intake's /metrics shows it all.
    env.setdefault("METRICS_DIR", str(runtime / "metrics"))
    for name, argv in app_commands(intake_port, flower_port, runtime, settings).items():
        child_env = flower_environment(env, settings) if name == "flower" else env
        stack.children.append(Child(name, argv, child_env))
    long_running = list(stack.children)
    if not _wait_until_ready(f"{api}/healthz", long_running, stopping):
        return 0 if stopping.is_set() else 1
    say(banner(settings, overrides, api, f"http://127.0.0.1:{flower_port}"))
    if args.demo:
        stack.children.append(Child("demo", python_module("devstack.demo", "--base-url", api), env))
    return watch(Supervisor(long_running, stack.services), stack.children, stopping)


def _local_limits(settings: Settings) -> dict[str, str]:
    """An order-creation limit the demo fits under, unless the environment sets one."""
    if "rate_limit_order_creation" in settings.model_fields_set:
        return {}
    return {"rate_limit_order_creation": LOCAL_ORDER_CREATION_LIMIT}


def _embedded(settings: Settings, stack: Stack) -> dict[str, str]:
    """Start what the settings leave unset, plus a local SMTP sink and payment sandbox."""
    overrides: dict[str, str] = {}
    if settings.database_url is None:
        postgres = _started(stack, start_postgres(port=preferred_port(DEFAULT_PORTS["postgres"])))
        overrides["database_url"] = postgres.url
    else:
        _require(postgres_answers(settings.database_url), "DATABASE_URL")
    if settings.redis_url is None:
        redis = _started(stack, start_redis(port=preferred_port(DEFAULT_PORTS["redis"])))
        overrides["redis_url"] = redis.url
    else:
        _require(redis_answers(settings.redis_url), "REDIS_URL")
    if settings.sqs_endpoint_url is None:
        sqs = _started(stack, start_moto(port=preferred_port(DEFAULT_PORTS["moto"])))
        overrides["sqs_endpoint_url"] = sqs.url
    smtp_port = preferred_port(DEFAULT_PORTS["smtp"])
    _started(stack, start_smtp_sink(DEFAULT_MAILDIR, port=smtp_port))
    # The sink speaks plain SMTP: a TLS setting meant for a real server would break every send.
    overrides |= {"smtp_host": "127.0.0.1", "smtp_port": str(smtp_port)}
    overrides |= {"smtp_starttls": "false", "smtp_ssl": "false"}
    sandbox = start_payment_sandbox(port=preferred_port(DEFAULT_PORTS["paysandbox"]))
    overrides["payment_api_base"] = _started(stack, sandbox).url
    return overrides


def _configured(settings: Settings) -> dict[str, str]:
    """Use the settings as they are, after checking the database and Redis answer."""
    _require(postgres_answers(settings.require_database_url()), "DATABASE_URL")
    _require(redis_answers(settings.require_redis_url()), "REDIS_URL")
    return {}


def _started(stack: Stack, service: RunningService) -> RunningService:
    stack.services.append(service)
    say(f"devstack: {service.name} answers at {service.url}")
    return service


def _require(answers: bool, setting: str) -> None:
    if not answers:
        raise RuntimeError(f"{setting} is set but nothing answers there (unset it to embed one)")


def _setup_step(name: str, module: str, env: dict[str, str], stopping: threading.Event) -> bool:
    """Run one setup command to completion; False if it failed or a stop was asked for."""
    step = Child(name, python_module(module), env)
    while step.exit_code() is None and not stopping.wait(0.2):
        pass
    step.stop()
    if step.exit_code() != 0 and not stopping.is_set():
        say(f"devstack: {name} failed with exit code {step.exit_code()}")
    return step.exit_code() == 0 and not stopping.is_set()


def _wait_until_ready(health: str, children: list[Child], stopping: threading.Event) -> bool:
    """Wait for the intake to answer; a child dying before that is a broken setup: give up."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not stopping.wait(0.3):
        if _first_exited(children) is not None:
            return False
        if http_ok(health):
            return True
        if time.monotonic() > deadline:
            say(f"devstack: the intake did not answer {health} within {READY_TIMEOUT:.0f} s")
            return False
    return False


def _first_exited(children: list[Child]) -> Child | None:
    for child in children:
        if (code := child.exit_code()) is not None:
            say(f"devstack: {child.name} {how_it_ended(code)} before the stack was ready")
            return child
    return None


if __name__ == "__main__":
    raise SystemExit(main())
