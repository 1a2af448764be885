"""The start table's rows: every component of a running stack, where it is and who runs it."""

from __future__ import annotations

from dataclasses import dataclass

from devstack.banner import Row, flower_login
from devstack.children import Child
from devstack.commands import worker_queues
from devstack.datadir import DataDir
from devstack.embedded import Started
from settings import Settings


@dataclass(frozen=True)
class Layout:
    """What the table is made from: settings, what was started, and the app's addresses."""

    settings: Settings
    overrides: dict[str, str]
    started: Started
    children: dict[str, Child]
    api: str
    flower: str
    data: DataDir


def component_rows(stack: Layout) -> list[Row]:
    """The app's own processes first, then the services they use."""
    return [*_app_rows(stack), *_service_rows(stack)]


def _app_rows(stack: Layout) -> list[Row]:
    queues = worker_queues(stack.settings)
    return [
        Row("API", stack.api, _pid(stack, "intake"), "app", _moved(stack, "intake", "gunicorn")),
        Row("API docs", f"{stack.api}/docs/", None, "app", f"OpenAPI: {stack.api}/openapi.json"),
        Row("metrics", f"{stack.api}/metrics", None, "app", "Bearer METRICS_TOKEN; every process"),
        Row(
            "Flower",
            stack.flower,
            _pid(stack, "flower"),
            "app",
            _moved(stack, "flower", flower_login(stack.settings)),
        ),
        Row("dispatcher", "", _pid(stack, "dispatcher"), "app", "SQS orders -> Celery"),
        Row("worker", "", _pid(stack, "worker"), "app", "queues " + ",".join(queues["worker"])),
        Row(
            "payments", "", _pid(stack, "payments"), "app", "queues " + ",".join(queues["payments"])
        ),
        Row("beat", "", _pid(stack, "beat"), "app", "relay, watchdog, sweeps"),
    ]


def _service_rows(stack: Layout) -> list[Row]:
    settings, data = stack.settings, stack.data
    kept = "throwaway" if stack.started.not_kept else f"data kept in {data.shown()}/postgres"
    smtp = f"{stack.overrides.get('smtp_host', settings.smtp_host)}:" + stack.overrides.get(
        "smtp_port", str(settings.smtp_port)
    )
    return [
        _service(stack, "PostgreSQL", "postgres", settings.database_url, kept),
        _service(stack, "Redis", "redis", settings.redis_url, "in memory; PostgreSQL re-queues"),
        _service(stack, "SQS", "moto", settings.sqs_endpoint_url or "AWS", settings.orders_queue),
        _service(stack, "SMTP", "smtp", smtp, "sink"),
        _mailbox(stack),
        _service(
            stack,
            "payment sandbox",
            "paysandbox",
            settings.payment_api_base or "Stripe",
            "in memory",
        ),
        _service(stack, "webhooks", "webhooks", "", "receiver: GET / lists events; make webhooks"),
    ]


def _mailbox(stack: Layout) -> Row:
    if stack.started.service("smtp") is None:
        return Row("mailbox", "", None, "external", "the SMTP server's own")
    folder = f"{stack.data.shown()}/mail"
    return Row("mailbox", folder, None, "embedded", "make mail lists it (no web UI)")


def _service(stack: Layout, label: str, name: str, configured: str | None, notes: str) -> Row:
    """An embedded service with its pid, or the configured one it stands for."""
    service = stack.started.service(name)
    if service is None:
        return Row(label, configured or "", None, "external", "")
    address = service.url.removeprefix("smtp://")
    return Row(label, address, service.pid, "embedded", _moved(stack, name, notes))


def _pid(stack: Layout, name: str) -> int | None:
    child = stack.children.get(name)
    return None if child is None else child.process.pid


def _moved(stack: Layout, name: str, notes: str) -> str:
    usual = stack.started.moved.get(name)
    return notes if usual is None else f"{notes}; port {usual} was taken"
