"""GET /metrics: gauges read from the database and SQS at scrape time, and the counters.

The counters and histograms are the processes' own (telemetry/): with METRICS_DIR, every
process kind's folder under it, merged; without, this process's.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from flask import Blueprint, Response, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake.auth import bearer_token
from intake.openapi import METRICS_TOKEN, Content, operation
from intake.problems import Problem
from intake.queue_depth import QueueCollector, queue_depths
from intake.runtime import runtime
from models.domain.follow_ups import ORDERS, TASK
from models.domain.lifecycle import OrderStatus
from models.store.alerts import low_stock_metrics
from models.tables.orders import Order
from models.tables.outbox import PENDING, Outbox
from telemetry.processes import recorded

# Every gauge this collector yields, by name, so a registry can check names before a scrape.
GAUGES = {
    "fulfillment_orders": "Orders by status",
    "fulfillment_low_stock_alerts_open": "Low-stock alerts not yet cleared by restocking",
    "fulfillment_low_stock_alerts_unnotified": (
        "Open low-stock alerts operations has not been emailed about"
    ),
    "fulfillment_outbox_pending": (
        "Follow-ups not yet done: messages not yet on SQS, tasks not yet run to an outcome"
    ),
    "fulfillment_outbox_failed": "Follow-ups given up for good (each one told operations)",
    "fulfillment_outbox_oldest_pending_age_seconds": (
        "Age of the oldest follow-up not yet done, by topic: orders (a message not yet on "
        "SQS), task (a step not yet run to an outcome); 0 when none is pending"
    ),
}

bp = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    """Orders by status, open low-stock alerts and the outbox's backlog and lag, per scrape."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The gauges' names, without reading anything."""
        for name, text in GAUGES.items():
            yield GaugeMetricFamily(name, text)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The gauges, from one read-only snapshot."""
        with self._sessions() as session, session.begin():
            counts = dict(
                session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
            )
            alerts = low_stock_metrics(session)
            pending, failed = session.execute(
                select(
                    func.count().filter(PENDING), func.count().filter(Outbox.failed_at.is_not(None))
                ).where(Outbox.done_at.is_(None))
            ).one()
            oldest = _oldest_pending(session)
        orders = GaugeMetricFamily(
            "fulfillment_orders", GAUGES["fulfillment_orders"], labels=["status"]
        )
        # Every known status, zeros included, so dashboards never see a series vanish.
        for status in sorted({s.value for s in OrderStatus} | set(counts)):
            orders.add_metric([status], counts.get(status, 0))
        yield orders
        yield _gauge("fulfillment_low_stock_alerts_open", alerts["open"])
        yield _gauge("fulfillment_low_stock_alerts_unnotified", alerts["unnotified"])
        yield _gauge("fulfillment_outbox_pending", pending or 0)
        yield _gauge("fulfillment_outbox_failed", failed or 0)
        name = "fulfillment_outbox_oldest_pending_age_seconds"
        lag = GaugeMetricFamily(name, GAUGES[name], labels=["topic"])
        for topic in sorted({ORDERS, TASK} | set(oldest)):
            lag.add_metric([topic], oldest.get(topic, 0.0))
        yield lag


def _gauge(name: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, GAUGES[name], value=value)


def _oldest_pending(session: Session) -> dict[str, float]:
    """Seconds since the oldest pending follow-up of each topic was recorded (database clock)."""
    age = func.extract("epoch", func.now() - func.min(Outbox.created_at))
    rows = session.execute(select(Outbox.topic, age).where(PENDING).group_by(Outbox.topic)).all()
    return {topic: max(0.0, float(seconds or 0.0)) for topic, seconds in rows}


def _require_scraper() -> None:
    """401 unless the request carries METRICS_TOKEN: the gauges describe the business."""
    expected = runtime().settings.metrics_token.get_secret_value().encode()
    given = (bearer_token(request.headers.get("Authorization")) or "").encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise Problem(
            401,
            "Unauthorized",
            errors=[{"field": "Authorization", "reason": "must be Bearer METRICS_TOKEN"}],
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


@bp.get("/metrics")
@operation(
    replies={200: Content("text/plain", {"type": "string"}, "Prometheus text format")},
    auth=METRICS_TOKEN,
)
def metrics() -> Response:
    """The gauges and the counters in Prometheus text format."""
    _require_scraper()
    # A registry per scrape, not the process-wide one: these gauges belong to this request.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(runtime().sessions))
    registry.register(QueueCollector(queue_depths()))
    registry.register(recorded(runtime().settings))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
