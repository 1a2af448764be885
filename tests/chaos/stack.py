"""The whole system as processes, started as compose starts it, with settings for a fast run."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from devstack.commands import (
    GENERAL_CONCURRENCY,
    app_commands,
    celery_worker,
    python_module,
    worker_queues,
)
from devstack.postgres import fresh_database
from devstack.processes import REPO_ROOT, free_port, log_tail
from devstack.services import RunningService, http_ok, start_moto, start_payment_sandbox
from models.services.import_geodata import SWEDEN
from settings import Settings, as_environment, child_environment
from tests.chaos.mailsink import MailSink
from tests.chaos.processes import Proc, RestartableRedis
from tests.infra import postgres_server, running, settings_for_tests
from workers.celery_queues import queue_name

SETUP_TIMEOUT = 120.0
READY_TIMEOUT = 90.0
PIPELINE = ("dispatcher", "worker", "payments", "webhooks", "beat")
# Threads of the webhooks worker: a delivery mostly waits on the shop's answer.
WEBHOOKS_CONCURRENCY = 8
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
        start_consuming([self.procs[name] for name in PIPELINE])


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
        # The shop's endpoint stalls on purpose: a short timeout keeps a stall from holding a
        # pool child long, and short backoffs keep retries inside the run.
        webhook_timeout_seconds=1.0,
        webhook_backoff_base_seconds=0.5,
        webhook_backoff_cap_seconds=4.0,
    )


@dataclass
class Services:
    """The services the system's own processes talk to, each stopped when the stack stops."""

    database: str
    redis: RestartableRedis
    moto: RunningService
    sandbox: RunningService


def start_services(
    stop: contextlib.ExitStack, sandbox_args: Sequence[str] = (), base: Settings | None = None
) -> Services:
    """A fresh database on the test server, an empty Redis, moto and the payment sandbox.

    The test server is the local PostgreSQL, or an embedded one where `base` (by default the
    environment's settings) says test_embedded or the local one does not answer.
    """
    base = base or Settings()
    database = stop.enter_context(fresh_database(stop.enter_context(postgres_server(base))))
    redis = RestartableRedis(free_port())
    stop.callback(redis.stop)
    moto = stop.enter_context(running(start_moto()))
    sandbox = stop.enter_context(running(start_payment_sandbox(extra_args=sandbox_args)))
    return Services(database, redis, moto, sandbox)


def service_settings(services: Services, smtp_port: int, api: str) -> dict[str, object]:
    """The settings that point the system's processes at `services`."""
    return {
        "database_url": services.database,
        "redis_url": services.redis.url,
        "sqs_endpoint_url": services.moto.url,
        "payment_api_base": services.sandbox.url,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "public_base_url": api,
    }


def stack_environment(settings: Settings) -> dict[str, str]:
    """The environment every process of the system runs with."""
    return child_environment(as_environment(settings) | {"PYTHONUNBUFFERED": "1"})


def set_up_and_start_intake(
    env: dict[str, str], procs: dict[str, Proc], logs: Path, api: str, *, geodata: bool = True
) -> None:
    """Create the queues (and import the Swedish postal codes), then start the intake."""
    run_setup(python_module("workers.create_queues"), env, logs / "setup.log")
    if geodata:
        run_setup(python_module("intake.geodata_import", str(SWEDEN)), env, logs / "setup.log")
    procs["intake"].start()
    wait_ready(lambda: http_ok(f"{api}/readyz", timeout=2.0), procs["intake"])


def start_consuming(procs: Sequence[Proc]) -> None:
    """Start the processes; wait until those that are Celery workers consume."""
    for proc in procs:
        proc.start()
    for proc in procs:
        if "worker" in proc.argv:
            wait_ready(partial(proc.logged_since_start, WORKER_READY), proc)


@contextlib.contextmanager
def running_stack(seed: int, logs: Path) -> Iterator[Stack]:
    """Every service and process of the system, stopped again however the block ends."""
    empty_logs(logs)
    with contextlib.ExitStack() as stop:
        runtime = Path(stop.enter_context(tempfile.TemporaryDirectory(prefix="chaos-")))
        services = start_services(stop, _sandbox_args(seed))
        sink = MailSink(free_port())
        sink.start()
        stop.callback(sink.stop)
        intake_port = free_port()
        api = f"http://127.0.0.1:{intake_port}"
        settings = chaos_settings(Settings(), **service_settings(services, sink.port, api))
        env = stack_environment(settings)
        commands = with_webhooks_worker(
            app_commands(intake_port, free_port(), runtime, settings), settings
        )
        procs = make_procs(commands, env, logs, stop)
        set_up_and_start_intake(env, procs, logs, api)
        yield Stack(settings, api, services.sandbox.url, services.redis, sink, procs)


def with_webhooks_worker(
    commands: dict[str, list[str]], settings: Settings
) -> dict[str, list[str]]:
    """The webhooks queue on a threaded worker of its own, as compose runs it: a shop that
    stalls holds a thread there, not a prefork child of the general worker."""
    hooks = queue_name(settings.celery_queue_prefix, "webhooks")
    general = [queue for queue in worker_queues(settings)["worker"] if queue != hooks]
    concurrency = ["--concurrency", str(GENERAL_CONCURRENCY)]
    threads = ["--pool", "threads", "--concurrency", str(WEBHOOKS_CONCURRENCY)]
    events = settings.worker_events
    return commands | {
        "worker": celery_worker(general, "worker", *concurrency, events=events),
        "webhooks": celery_worker([hooks], "webhooks", *threads, events=events),
    }


def empty_logs(logs: Path) -> None:
    """The log folder, made if missing, without the last run's logs."""
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.log"):
        old.unlink()


def make_procs(
    commands: dict[str, list[str]],
    env: dict[str, str],
    logs: Path,
    stop: contextlib.ExitStack,
    skip: frozenset[str] = frozenset({"flower"}),
) -> dict[str, Proc]:
    """A process per command but those skipped, not started yet, each stopped with the stack."""
    procs = {
        name: Proc(name, argv, env, logs / f"{name}.log")
        for name, argv in commands.items()
        if name not in skip
    }
    for proc in procs.values():
        stop.callback(proc.stop)
    return procs


def _sandbox_args(seed: int) -> list[str]:
    # Seeded, so which requests its fault rates strike repeats with the run's seed.
    return ["--seed", str(seed)]


def run_setup(argv: list[str], env: dict[str, str], log: Path) -> None:
    """Run a setup command to its end; its output goes to `log`, a failure raises."""
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


def wait_ready(ready: Callable[[], bool], proc: Proc) -> None:
    """Wait until `ready()`; fail if `proc` dies first or it takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        if proc.exit_code() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.exit_code()}{log_tail(proc.log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{proc.name} not ready in {READY_TIMEOUT:.0f} s{log_tail(proc.log)}"
            )
        time.sleep(0.2)
