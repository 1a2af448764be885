"""The intake and the minimal endpoint, served side by side for the intake benchmark.

A throwaway database (migrated, seeded), moto's SQS with the queues made, Redis for the
intake's readiness check, and the two apps under gunicorn with the stack's own flags. The
dispatcher and the workers stay down: only the intake's request path is measured.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import support
from bench.minimal_app import create_schema
from devstack.commands import python_module, web_server
from devstack.processes import REPO_ROOT, free_port, log_tail, spawn, stop_group, wait_until
from devstack.services import http_ok, start_moto
from settings import Settings, as_environment, child_environment
from tests.infra import redis_server, running
from workers.adapters.sqs import OrdersQueue

APPS = {"intake": "intake:create_app()", "minimal": "bench.minimal_app:create_app()"}
# The intake's readiness covers its database, Redis and the SQS queue it sends to.
READY_PATHS = {"intake": "/readyz", "minimal": "/healthz"}
# What devstack.run does before it starts the intake (fresh_database has migrated already).
SETUP_STEPS = ("workers.create_queues", "devstack.seed")
SETUP_TIMEOUT = 120.0
RATE_LIMITS = (
    "rate_limit_order_creation",
    "rate_limit_order_read_failures",
    "rate_limit_admin_auth_failures",
    "rate_limit_carrier_webhook",
)
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Served:
    """Where the two apps answer, the database behind both, and the run's facts."""

    intake: str
    minimal: str
    database: str
    facts: list[tuple[str, str]]
    settings: Settings


@contextlib.contextmanager
def served(server: str, rate_limit: str | None = None) -> Iterator[Served]:
    """Both apps ready to take orders, everything stopped and dropped when the block ends.

    The load comes from one address, so the intake's rate limits are off, or all at `rate_limit`.
    """
    with contextlib.ExitStack() as stop:
        logs = Path(stop.enter_context(tempfile.TemporaryDirectory(prefix="bench-intake-")))
        found, embedded = stop.enter_context(support.postgres_server(server))
        database = stop.enter_context(support.fresh_database(found, "bench"))
        base = Settings()
        moto = stop.enter_context(running(start_moto()))
        settings = base.model_copy(
            update={
                "database_url": database,
                "redis_url": stop.enter_context(redis_server(base)),
                "sqs_endpoint_url": moto.url,
                "rate_limits_enabled": rate_limit is not None,
                **{name: rate_limit for name in RATE_LIMITS if rate_limit},
            }
        )
        env = child_environment(as_environment(settings))
        run_setup(env, logs)
        create_schema(database)
        urls = start_apps(env, logs, stop)
        facts = support.machine_facts(database, embedded)
        yield Served(urls["intake"], urls["minimal"], database, facts, settings)


def run_setup(env: dict[str, str], logs: Path) -> None:
    """The setup steps, side by side; stop, quoting the log, if one fails."""
    log = logs / "setup.log"
    with log.open("ab") as sink:
        steps = [
            subprocess.Popen(
                python_module(module), env=env, cwd=REPO_ROOT, stdout=sink, stderr=sink
            )
            for module in SETUP_STEPS
        ]
        codes = [step.wait(timeout=SETUP_TIMEOUT) for step in steps]
    if any(codes):
        raise RuntimeError(
            f"setup failed {dict(zip(SETUP_STEPS, codes, strict=True))}{log_tail(log)}"
        )


def start_apps(env: dict[str, str], logs: Path, stop: contextlib.ExitStack) -> dict[str, str]:
    """Both apps under the stack's gunicorn flags, started together; their URLs once ready."""
    started: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
    for name, app in APPS.items():
        port = free_port()
        process = spawn(web_server(port, app), logs / f"{name}.log", env=env, cwd=REPO_ROOT)
        stop.callback(stop_group, process)
        started[name] = (f"http://127.0.0.1:{port}", process)
    for name, (url, process) in started.items():
        wait_ready(f"{url}{READY_PATHS[name]}", process, logs / f"{name}.log")
    return {name: url for name, (url, _) in started.items()}


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until GET `url` answers 200; fail early, quoting the log, if the server exits."""
    wait_until(lambda: http_ok(url), READY_TIMEOUT, f"{url} not ready", process, log)


def sqs_limit(settings: Settings, seconds: float = 3.0, threads: int = 2) -> float:
    """Messages/s the SQS server takes alone, in batches of ten: the ceiling of the publisher."""
    queue = OrdersQueue.from_settings(settings, timeout=10)
    batch = [{"type": "bench.limit", "n": n} for n in range(10)]
    sent = [0] * threads

    def send(index: int) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            sent[index] += sum(1 for message_id in queue.publish_batch(batch) if message_id)

    started = time.monotonic()
    workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(sent) / (time.monotonic() - started)


@contextlib.contextmanager
def draining(settings: Settings) -> Iterator[list[int]]:
    """Take messages off the orders queue as the dispatcher would, while the block runs.

    With nobody taking them the queue grows by thousands, and the embedded SQS server slows
    with its length (each call walks the queue), which would measure the stand-in rather than
    the intake. Yields the running count of messages taken.
    """
    queue = OrdersQueue.from_settings(settings, timeout=10)
    taken = [0]
    stopping = threading.Event()

    def drain() -> None:
        while not stopping.is_set():
            messages = queue.receive(wait_seconds=1, visibility_timeout=30)
            queue.delete(messages)
            taken[0] += len(messages)

    thread = threading.Thread(target=drain, name="drain", daemon=True)
    thread.start()
    try:
        yield taken
    finally:
        stopping.set()
        thread.join(timeout=15)


LAG_SQL = """SELECT
  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE ms IS NOT NULL),
  percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FILTER (WHERE ms IS NOT NULL),
  count(*) FILTER (WHERE ms IS NULL),
  count(*) FILTER (WHERE failed)
FROM (SELECT 1000 * extract(epoch FROM done_at - created_at)::float8 AS ms,
             last_error IS NOT NULL AS failed
      FROM outbox WHERE topic = 'orders') AS sent"""


def sqs_lag(database: str, patience: float = 15.0) -> dict[str, float]:
    """Commit to SQS for the orders' messages: p50 and p99 ms, and how many never got there.

    Waits up to `patience` for the intake's background publisher to drain (no relay runs in
    this benchmark). A row's `created_at` is taken just before its commit, so the figures
    are a little longer than commit-to-SQS itself.
    """
    deadline = time.monotonic() + patience
    with support.connect(database) as connection:
        while True:
            row = connection.execute(LAG_SQL).fetchone()
            connection.commit()
            if row is None or not row[2] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    p50, p99, pending, failed = row if row else (None, None, 0, 0)
    return {
        "p50_ms": round(p50 or 0.0, 1),
        "p99_ms": round(p99 or 0.0, 1),
        "unsent": pending,
        # Batches SQS refused or did not answer in time: left to the relay (not running here).
        "publish_errors": failed,
    }
