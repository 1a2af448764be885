"""Prometheus and Grafana in the compose stack: wired, scraping every process kind, and every
metric the dashboard and the alert rules ask for is one the code exposes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, cast

import pytest
import yaml
from prometheus_client.metrics_core import Metric
from sqlalchemy.orm import Session, sessionmaker

from intake.metrics import DatabaseCollector
from intake.queue_depth import QueueCollector
from telemetry.instruments import REGISTRY
from tests.unit.test_compose import ROOT, SERVICES, command_line, environment

DEPLOY = ROOT / "deploy"
PROMETHEUS = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
ALERTS = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
DASHBOARD = json.loads((DEPLOY / "grafana" / "fulfillment.json").read_text())
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}
METRIC = re.compile(r"\b(fulfillment_[a-z0-9_]+)\b")


def sample_names(metrics: Iterable[Metric]) -> set[str]:
    """The names a scrape shows for these metric families."""
    return {m.name + suffix for m in metrics for suffix in SUFFIXES[m.type]}


def exposed() -> set[str]:
    """Every sample name the code exposes: the processes' counters and the scrape-time gauges."""
    no_database = cast(sessionmaker[Session], None)
    return sample_names(
        [
            *REGISTRY.collect(),
            *DatabaseCollector(no_database).describe(),
            *QueueCollector(dict).describe(),
        ]
    )


def rules() -> list[dict[str, Any]]:
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def dashboard_expressions() -> Iterator[str]:
    for panel in DASHBOARD["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]


def expressions() -> list[str]:
    return [*(str(rule["expr"]) for rule in rules()), *dashboard_expressions()]


def test_every_metric_the_dashboard_and_the_alerts_ask_for_is_exposed_by_the_code() -> None:
    asked = {name for expr in expressions() for name in METRIC.findall(expr)}

    assert len(asked) >= 15
    assert asked - exposed() == set()


def test_the_counters_of_every_part_of_the_issue_are_exposed() -> None:
    names = exposed()
    for wanted in [
        "fulfillment_http_requests_total",
        "fulfillment_http_request_duration_seconds_bucket",
        "fulfillment_orders_submitted_total",
        "fulfillment_orders",
        "fulfillment_outbox_oldest_pending_age_seconds",
        "fulfillment_outbox_pending",
        "fulfillment_sqs_messages",
        "fulfillment_step_duration_seconds_bucket",
        "fulfillment_step_runs_total",
        "fulfillment_step_retries_total",
        "fulfillment_payment_attempts_total",
        "fulfillment_mails_total",
        "fulfillment_allocation_decisions_total",
        "fulfillment_low_stock_alerts_open",
    ]:
        assert wanted in names


def test_every_alert_rule_is_complete() -> None:
    assert len(rules()) >= 10
    for rule in rules():
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"])
        assert rule["annotations"]["summary"]


def test_the_dashboard_takes_its_data_source_from_a_variable() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    panels = [p for p in DASHBOARD["panels"] if p["type"] != "row"]
    assert len(panels) >= 15
    for panel in panels:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert panel["targets"], panel["title"]
    assert len({p["id"] for p in DASHBOARD["panels"]}) == len(DASHBOARD["panels"])


def scrape_targets() -> dict[str, set[str]]:
    """Each scrape job's targets."""
    return {
        job["job_name"]: {t for static in job["static_configs"] for t in static["targets"]}
        for job in PROMETHEUS["scrape_configs"]
    }


def serves_metrics(name: str) -> bool:
    """The intake, the dispatcher and every Celery worker service (on METRICS_PORT)."""
    line = command_line(SERVICES[name].get("command"))
    return name == "intake" or "workers.dispatcher" in line or " worker " in f" {line} "


def test_prometheus_scrapes_every_process_kind_that_serves_metrics() -> None:
    targets = set().union(*scrape_targets().values())
    port = environment(SERVICES["dispatcher"])["METRICS_PORT"]
    expected = {f"{name}:{port}" for name in SERVICES if serves_metrics(name) and name != "intake"}

    assert "intake:8000" in targets
    # A worker service added to the compose file needs a target here too.
    assert expected <= targets
    assert {t.split(":")[0] for t in targets} <= set(SERVICES)
    assert {"allocation-worker:9100", "payments-worker:9100", "dispatcher:9100"} <= expected


def test_prometheus_sends_the_metrics_token_from_the_file_its_service_writes() -> None:
    command = command_line(SERVICES["prometheus"]["command"])
    for job in PROMETHEUS["scrape_configs"]:
        authorization = job["authorization"]
        assert authorization.get("type", "Bearer") == "Bearer"
        assert f"> {authorization['credentials_file']}" in command
        assert "credentials" not in authorization
    assert "${METRICS_TOKEN:?" in environment(SERVICES["prometheus"])["METRICS_TOKEN"]


def mounts(service: str) -> dict[str, str]:
    """Container path -> host path of a service's file mounts."""
    found = {}
    for volume in SERVICES[service]["volumes"]:
        host, container = volume.split(":")[:2]
        if host.startswith("./"):
            assert (ROOT / host).exists(), host
            found[container] = host
    return found


def test_prometheus_loads_the_alert_rules_and_its_config_from_deploy() -> None:
    files = mounts("prometheus")
    assert files["/etc/prometheus/prometheus.yml"] == "./deploy/prometheus.yml"
    for rule_file in PROMETHEUS["rule_files"]:
        assert files[rule_file] == "./deploy/alerts.yml"
    assert "--config.file=/etc/prometheus/prometheus.yml" in command_line(
        SERVICES["prometheus"]["command"]
    )


def test_grafana_shows_the_dashboard_from_the_provisioned_prometheus_at_once() -> None:
    files = mounts("grafana")
    provisioning = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    provider = yaml.safe_load((provisioning / "dashboards" / "fulfillment.yml").read_text())
    env = environment(SERVICES["grafana"])

    assert files["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    [datasource] = source["datasources"]
    assert (datasource["type"], datasource["url"]) == ("prometheus", "http://prometheus:9090")
    [dashboards] = provider["providers"]
    home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards["options"]["path"] + "/")
    assert files[home] == "./deploy/grafana/fulfillment.json"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert SERVICES["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_the_monitoring_images_are_pinned_to_a_version(name: str) -> None:
    assert re.fullmatch(r"[a-z/]+:v?\d+\.\d+\.\d+", SERVICES[name]["image"])
