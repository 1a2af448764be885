"""GET /metrics: Prometheus gauges computed from the database at scrape time."""

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
from intake.runtime import runtime
from models.domain.lifecycle import OrderStatus
from models.store.alerts import low_stock_metrics
from models.tables.orders import Order
from models.tables.outbox import PENDING, Outbox

bp = Blueprint("metrics", __name__)


class DatabaseCollector(Collector):
    """Orders by status, open low-stock alerts and unpublished outbox rows, read per scrape."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

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
        orders = GaugeMetricFamily("fulfillment_orders", "Orders by status", labels=["status"])
        # Every known status, zeros included, so dashboards never see a series vanish.
        for status in sorted({s.value for s in OrderStatus} | set(counts)):
            orders.add_metric([status], counts.get(status, 0))
        yield orders
        yield GaugeMetricFamily(
            "fulfillment_low_stock_alerts_open",
            "Low-stock alerts not yet cleared by restocking",
            value=alerts["open"],
        )
        yield GaugeMetricFamily(
            "fulfillment_low_stock_alerts_unnotified",
            "Open low-stock alerts operations has not been emailed about",
            value=alerts["unnotified"],
        )
        yield GaugeMetricFamily(
            "fulfillment_outbox_pending",
            "Follow-ups not yet done: messages not yet on SQS, tasks not yet run to an outcome",
            value=pending or 0,
        )
        yield GaugeMetricFamily(
            "fulfillment_outbox_failed",
            "Follow-ups given up for good (each one told operations)",
            value=failed or 0,
        )


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
    """The gauges in Prometheus text format."""
    _require_scraper()
    # A registry per scrape, not the process-wide one: these gauges belong to this request.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(runtime().sessions))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
