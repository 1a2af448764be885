"""The whole system as processes, started as compose starts it, with settings for a fast run."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from devstack.commands import app_commands, python_module
from devstack.postgres import fresh_database
from devstack.processes import REPO_ROOT, free_port, log_tail
from devstack.services import RunningService, http_ok, start_moto, start_payment_sandbox
from models.services.import_geodata import SWEDEN
from settings import Settings, as_environment, child_environment
from tests.chaos.mailsink import MailSink
from tests.chaos.processes import Proc, RestartableRedis
from tests.infra import postgres_server, running, settings_for_tests

SETUP_TIMEOUT = 120.0
READY_TIMEOUT = 90.0
PIPELINE = ("dispatcher", "worker", "payments", "beat")
# Celery logs this line once a worker consumes; before it, tasks would only pile up.
WORKER_READY = b" ready."


@dataclass
class Stack:
    """Where everything answers, and the handles the faults need."""

    settings: Settings
    api: str
    sandbox: str
    redis: RestartableRedis
    sink: MailSink
    procs: dict[str, Proc]

    def start_pipeline(self) -> None:
        """Start the dispatcher, both workers and beat; wait until the workers consume."""
        for name in PIPELINE:
            self.procs[name].start()
        for name in ("worker", "payments"):
            proc = self.procs[name]
            _wait(partial(proc.logged_since_start, WORKER_READY), proc)


def chaos_settings(base: Settings, **services: object) -> Settings:
    """Settings for a fast run: short polls, timeouts, intervals and SLAs, this run's names."""
    run = uuid.uuid4().hex[:8]
    return settings_for_tests(
        base,
        **services,
        celery_queue_prefix=f"chaos{run}-",
        # Long enough that an outage of a few seconds does not dead-letter good messages.
        sqs_visibility_timeout=10,
        sqs_max_receive_count=5,
        outbox_relay_grace_seconds=1.0,
        outbox_relay_interval=2.0,
        watchdog_interval=5.0,
        # Short enough to recover within a minute, long enough not to re-send a mere backlog.
        step_sla_seconds=30,
        payments_concurrency=8,
        warehouse_cache_seconds=60.0,
        # No backorders under the reject policy: these ticks would only crowd the queues.
        backorder_retry_interval=30.0,
        low_stock_sweep_interval=30.0,
        shortage_policy="reject",
        mail_transport="smtp",
        smtp_starttls=False,
        smtp_ssl=False,
        log_format="text",
    )


@contextlib.contextmanager
def running_stack(seed: int, logs: Path) -> Iterator[Stack]:
    """Every service and process of the system, stopped again however the block ends."""
    _empty_logs(logs)
    with contextlib.ExitStack() as stop:
        runtime = Path(stop.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        base = Settings()
        database = stop.enter_context(fresh_database(stop.enter_context(postgres_server(base))))
        redis = RestartableRedis(free_port())
        stop.callback(redis.stop)
        moto = stop.enter_context(running(start_moto()))
        sandbox = stop.enter_context(running(_sandbox(seed)))
        sink = MailSink(free_port())
        sink.start()
        stop.callback(sink.stop)
        intake_port = free_port()
        api = f"http://127.0.0.1:{intake_port}"
        settings = chaos_settings(
            base,
            database_url=database,
            redis_url=redis.url,
            sqs_endpoint_url=moto.url,
            payment_api_base=sandbox.url,
            smtp_host="127.0.0.1",
            smtp_port=sink.port,
            public_base_url=api,
        )
        env = child_environment(as_environment(settings) | {"PYTHONUNBUFFERED": "1"})
        _setup(python_module("workers.create_queues"), env, logs / "setup.log")
        _setup(python_module("intake.geodata_import", str(SWEDEN)), env, logs / "setup.log")
        commands = app_commands(intake_port, free_port(), runtime, settings)
        procs = _procs(commands, env, logs, stop)
        procs["intake"].start()
        _wait(lambda: http_ok(f"{api}/readyz", timeout=2.0), procs["intake"])
        yield Stack(settings, api, sandbox.url, redis, sink, procs)


def _empty_logs(logs: Path) -> None:
    """The log folder, made if missing, without the last run's logs."""
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()


def _procs(
    commands: dict[str, list[str]], env: dict[str, str], logs: Path, stop: contextlib.ExitStack
) -> dict[str, Proc]:
    """A process per command but flower, not started yet, each stopped when the stack stops."""
    procs = {
        name: Proc(name, argv, env, logs / f"{name}.log")
        for name, argv in commands.items()
        if name != "flower"
    }
    for proc in procs.values():
        stop.callback(proc.stop)
    return procs


def _sandbox(seed: int) -> RunningService:
    # Seeded, so which requests its fault rates strike repeats with the run's seed.
    return start_payment_sandbox(extra_args=["--seed", str(seed)])


def _setup(argv: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as sink:
        done = subprocess.run(
            argv,
            env=env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=SETUP_TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed ({done.returncode}){log_tail(log)}")


def _wait(ready: Callable[[], bool], proc: Proc) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        if proc.exit_code() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.exit_code()}{log_tail(proc.log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{proc.name} not ready in {READY_TIMEOUT:.0f} s{log_tail(proc.log)}"
            )
        time.sleep(0.2)
