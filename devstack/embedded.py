"""The services `make run` starts itself, on their usual ports when free, its data kept or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from devstack.children import say
from devstack.datadir import DataDir, prepare
from devstack.postgres import can_keep
from devstack.processes import RunningService, preferred_port
from devstack.services import (
    postgres_answers,
    redis_answers,
    start_moto,
    start_payment_sandbox,
    start_postgres,
    start_redis,
    start_smtp_sink,
    start_webhook_receiver,
)
from devstack.webhook_receiver import DEV_RECEIVER_SECRET
from settings import Settings

DEFAULT_PORTS = {
    "postgres": 54329,
    "redis": 63790,
    "moto": 4566,
    "smtp": 1025,
    "paysandbox": 12111,
    "webhooks": 9911,
    "intake": 8000,
    "flower": 5555,
}


@dataclass
class Started:
    """What the runner started and where: services by name, ports that had to move."""

    services: list[RunningService] = field(default_factory=list)
    moved: dict[str, int] = field(default_factory=dict)
    # Why the data cannot be kept this run, if it cannot: both kinds are cleared then.
    not_kept: str = ""

    def port(self, name: str) -> int:
        """The usual port for `name` when free, another free one when it is taken."""
        usual = DEFAULT_PORTS[name]
        port = preferred_port(usual)
        if port != usual:
            self.moved[name] = usual
        return port

    def service(self, name: str) -> RunningService | None:
        """The embedded service of that name, if this run started one."""
        return next((service for service in self.services if service.name == name), None)

    def add(self, service: RunningService) -> RunningService:
        """Remember a started service (so it is stopped) and say where it answers."""
        self.services.append(service)
        say(f"devstack: {service.name} answers at {service.url}")
        return service


def start_embedded(
    settings: Settings, started: Started, data: DataDir, fresh: bool
) -> tuple[dict[str, str], datetime | None]:
    """Start what the settings leave unset, plus an SMTP sink, the payment sandbox and a webhook
    receiver.

    The settings for the children, and when the kept data was started (None: a fresh start).
    """
    overrides: dict[str, str] = {}
    embedded_postgres = settings.database_url is None
    data.root.mkdir(parents=True, exist_ok=True)
    if embedded_postgres and not can_keep(data.postgres):
        started.not_kept = f"{data.root} is closed to nobody, whom PostgreSQL runs as"
    since = prepare(data, fresh or bool(started.not_kept))
    if embedded_postgres:
        kept = None if started.not_kept else data.postgres
        postgres = start_postgres(port=started.port("postgres"), data=kept)
        overrides["database_url"] = started.add(postgres).url
    else:
        _require(postgres_answers(settings.database_url or ""), "DATABASE_URL")
    if settings.redis_url is None:
        overrides["redis_url"] = started.add(start_redis(port=started.port("redis"))).url
    else:
        _require(redis_answers(settings.redis_url), "REDIS_URL")
    if settings.sqs_endpoint_url is None:
        overrides["sqs_endpoint_url"] = started.add(start_moto(port=started.port("moto"))).url
    smtp_port = started.port("smtp")
    started.add(start_smtp_sink(data.mail, port=smtp_port))
    # The sink speaks plain SMTP: a TLS setting meant for a real server would break every send.
    overrides |= {"smtp_host": "127.0.0.1", "smtp_port": str(smtp_port)}
    overrides |= {"smtp_starttls": "false", "smtp_ssl": "false"}
    sandbox = start_payment_sandbox(port=started.port("paysandbox"))
    overrides["payment_api_base"] = started.add(sandbox).url
    # The shop's webhook endpoint; subscribed once the database is migrated (devstack.run).
    receiver = start_webhook_receiver(
        data.webhooks, DEV_RECEIVER_SECRET, port=started.port("webhooks")
    )
    started.add(receiver)
    return overrides, since


def use_configured(settings: Settings) -> dict[str, str]:
    """Use the settings as they are, after checking the database and Redis answer."""
    _require(postgres_answers(settings.require_database_url()), "DATABASE_URL")
    _require(redis_answers(settings.require_redis_url()), "REDIS_URL")
    return {}


def _require(answers: bool, setting: str) -> None:
    if not answers:
        raise RuntimeError(f"{setting} is set but nothing answers there (unset it to embed one)")
