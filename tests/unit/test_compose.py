"""The compose stack and its image are wired the way the services expect."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from settings import Settings
from workers.celery_queues import PAYMENTS, QUEUES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
APP_SERVICES = [
    "paysandbox",
    "migrate",
    "intake",
    "dispatcher",
    "allocation-worker",
    "payments-worker",
    "shipping-worker",
    "notifications-worker",
    "webhooks-worker",
    "maintenance-worker",
    "beat",
    "flower",
]
# Each worker service, and the one queue it consumes (its node is named after the queue too).
WORKERS = {f"{queue}-worker": queue for queue in QUEUES}
BACKING_SERVICES = ["postgres", "redis", "elasticmq", "mailpit", "prometheus", "grafana"]
ONE_SHOT = {"migrate"}
LONG_RUNNING = [name for name in SERVICES if name not in ONE_SHOT]
PUBLISHED = {
    "intake": {8000},
    "flower": {5555},
    "mailpit": {8025},
    "elasticmq": {9324},
    "prometheus": {9090},
    "grafana": {3000},
}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose forms it uses."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {str(key): str(value) for key, value in raw.items()}


def command_line(value: str | list[str] | None) -> str:
    """A command or healthcheck as one line of shell words."""
    if value is None:
        return ""
    return value if isinstance(value, str) else " ".join(value)


def healthcheck_line(service: dict[str, Any]) -> str:
    """The healthcheck's test as one line."""
    return command_line(service.get("healthcheck", {}).get("test"))


def modules_named(line: str) -> dict[str, bool]:
    """Every repo module a command runs (`python -m`, `celery -A`, a gunicorn app spec): by `-m`?"""
    words = shlex.split(line.replace("&&", " "))
    named = {
        words[i + 1]: word == "-m" for i, word in enumerate(words[:-1]) if word in {"-m", "-A"}
    }
    if words and words[0] == "gunicorn":
        named[words[-1].split(":", 1)[0]] = False
    return named


def module_exists(module: str, *, run_with_m: bool) -> bool:
    """Whether a dotted name is a file in the repository, or a package that can serve it."""
    path = ROOT.joinpath(*module.split("."))
    # `python -m` runs a package through its __main__.py; an import only needs its __init__.py.
    entry = "__main__.py" if run_with_m else "__init__.py"
    return path.with_suffix(".py").is_file() or (path / entry).is_file()


def published_container_ports(service: dict[str, Any]) -> set[int]:
    """The container side of every published port."""
    ports: set[int] = set()
    for entry in service.get("ports", []):
        target = entry["target"] if isinstance(entry, dict) else str(entry).rsplit(":", 1)[-1]
        ports.add(int(str(target).split("/", 1)[0]))
    return ports


def test_the_stack_has_every_service_it_needs() -> None:
    assert set(APP_SERVICES + BACKING_SERVICES) <= set(SERVICES)


def test_the_file_uses_the_compose_spec_without_a_version_key() -> None:
    assert "version" not in COMPOSE


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_an_image_or_a_build(name: str) -> None:
    assert SERVICES[name].get("image") or SERVICES[name].get("build")


def test_every_app_service_runs_the_one_app_image() -> None:
    images = {SERVICES[name].get("image") for name in APP_SERVICES}
    assert len(images) == 1
    assert all(SERVICES[name].get("build") for name in APP_SERVICES)


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_every_backing_image_is_pinned_by_tag(name: str) -> None:
    image = SERVICES[name]["image"]
    assert ":" in image
    assert not image.endswith(":latest")


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_every_long_running_service_has_a_healthcheck_and_restarts(name: str) -> None:
    assert healthcheck_line(SERVICES[name])
    assert SERVICES[name].get("restart") == "unless-stopped"


def test_the_migration_runs_once_and_every_app_service_waits_for_it() -> None:
    assert SERVICES["migrate"].get("restart") == "no"
    for name in ["intake", "dispatcher", *WORKERS, "beat"]:
        depends = SERVICES[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name


def test_the_migration_waits_for_the_database_and_the_queue_server() -> None:
    depends = SERVICES["migrate"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["elasticmq"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_exists_and_waits_on_a_condition(name: str) -> None:
    depends = SERVICES[name].get("depends_on", {})
    assert isinstance(depends, dict), "the short list form has no conditions"
    for target, options in depends.items():
        assert target in SERVICES
        assert options.get("condition") in CONDITIONS
        if options["condition"] == "service_healthy":
            assert healthcheck_line(SERVICES[target]), f"{target} never becomes healthy"


def test_intake_is_ready_only_once_readyz_answers() -> None:
    assert "/readyz" in healthcheck_line(SERVICES["intake"])


def option(line: str, *flags: str) -> str | None:
    """The value after the first of `flags` in a command line, if any is there."""
    words = shlex.split(line)
    return next((words[i + 1] for i, word in enumerate(words[:-1]) if word in flags), None)


@pytest.mark.parametrize(("service", "node"), WORKERS.items())
def test_each_worker_healthcheck_pings_its_own_named_node_with_a_timeout(
    service: str, node: str
) -> None:
    check = healthcheck_line(SERVICES[service])
    assert option(command_line(SERVICES[service]["command"]), "-n", "--hostname") == f"{node}@%h"
    assert "inspect ping" in check
    assert f"{node}@$$HOSTNAME" in check
    assert "--timeout" in check


def test_the_payments_worker_overlaps_gateway_waits_on_the_payments_queue_only() -> None:
    line = command_line(SERVICES["payments-worker"]["command"])
    assert option(line, "-P", "--pool") in {"threads", "gevent"}
    assert option(line, "-Q", "--queues") == PAYMENTS
    default = Settings.model_fields["payments_concurrency"].default
    assert f"${{PAYMENTS_CONCURRENCY:-{default}}}" in line


def test_flower_asks_for_a_password_from_the_settings_variables() -> None:
    flower = SERVICES["flower"]
    line = command_line(flower["command"]) + " " + " ".join(environment(flower))
    assert "--basic-auth" in line or "FLOWER_BASIC_AUTH" in line
    assert "FLOWER_PASSWORD" in line
    assert "/healthcheck" in healthcheck_line(flower)
    # Run through the wrapper that puts Flower's /metrics behind the same login.
    assert "python -m workers.flower" in line


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_environment_variable_is_a_setting(name: str) -> None:
    known = {field.upper() for field in Settings.model_fields}
    assert set(environment(SERVICES[name])) - known == set()


def test_the_app_services_run_in_production_with_required_secrets() -> None:
    env = environment(SERVICES["intake"])
    assert env["ENVIRONMENT"] == "production"
    assert env["LOG_FORMAT"] == "json"
    for secret in [
        "FLOWER_PASSWORD",
        "PAYMENT_API_KEY",
        "ADMIN_JWT_SECRET",
        "CARRIER_WEBHOOK_SECRET",
        "METRICS_TOKEN",
        "ORDER_TOKEN_SECRET",
    ]:
        assert re.fullmatch(rf"\$\{{{secret}:\?[^}}]+\}}", env[secret]), secret


def test_the_compose_environment_makes_valid_production_settings() -> None:
    # Every required ${VAR:?...} filled in as an operator would: production must accept it.
    env = {
        key.lower(): ("operator-chosen-secret-for-" + key.lower())
        if value.startswith("${")
        else value
        for key, value in environment(SERVICES["intake"]).items()
    }
    settings = Settings.model_validate(env)
    assert settings.environment == "production"


def test_the_app_services_reach_the_backing_services_by_name() -> None:
    env = environment(SERVICES["allocation-worker"])
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["SQS_ENDPOINT_URL"] == "http://elasticmq:9324"
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("mailpit", "1025")
    assert env["PAYMENT_API_BASE"] == "http://paysandbox:12111"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_only_the_expected_ports_are_published(name: str) -> None:
    assert published_container_ports(SERVICES[name]) == PUBLISHED.get(name, set())


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_command_runs_a_module_that_exists(name: str) -> None:
    modules = modules_named(command_line(SERVICES[name]["command"]))
    assert modules, "the command names no module"
    missing = [
        module for module, by_m in modules.items() if not module_exists(module, run_with_m=by_m)
    ]
    assert missing == []


def test_the_migration_migrates_declares_the_queues_and_seeds_in_order() -> None:
    line = command_line(SERVICES["migrate"]["command"])
    steps = ["models.tables.migrate", "workers.create_queues", "devstack.seed"]
    assert [line.index(step) for step in steps] == sorted(line.index(step) for step in steps)
    assert "&&" in line, "a failed step must stop the ones after it"


def test_the_queue_server_declares_the_queues_the_settings_name() -> None:
    env = environment(SERVICES["intake"])
    defaults = Settings.model_fields
    orders = env.get("ORDERS_QUEUE", defaults["orders_queue"].default)
    dlq = env.get("ORDERS_DLQ", defaults["orders_dlq"].default)
    mount = next(v for v in SERVICES["elasticmq"]["volumes"] if "elasticmq.conf" in v)
    conf = (ROOT / mount.split(":", 1)[0]).read_text()
    assert re.search(rf"^\s*{re.escape(orders)}\s*\{{", conf, re.MULTILINE)
    assert re.search(rf"^\s*{re.escape(dlq)}\s*\{{", conf, re.MULTILINE)
    assert re.search(rf'deadLettersQueue\s*\{{\s*name\s*=\s*"{re.escape(dlq)}"', conf)
    receives = re.findall(r"maxReceiveCount\s*=\s*(\d+)", conf)
    assert receives == [str(defaults["sqs_max_receive_count"].default)]
    visibility = re.findall(r"defaultVisibilityTimeout\s*=\s*(\d+) seconds", conf)
    assert set(visibility) == {str(defaults["sqs_visibility_timeout"].default)}


def test_the_image_installs_the_pinned_requirements() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert re.search(r"^ENV\b[^#]*PYTHONPATH=/app", dockerfile, re.MULTILINE | re.DOTALL)
    assert re.search(r"^EXPOSE 8000\b", dockerfile, re.MULTILINE)


def test_the_image_does_not_run_as_root() -> None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users, "without a USER line the services run as root"
    assert users[-1] not in {"root", "0", "0:0"}


def test_the_image_leaves_local_state_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".devstack"} <= set(ignored)
