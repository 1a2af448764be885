"""Every intake request counted by route, method and status, and timed."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from telemetry.instruments import request_answered

# Any other method is counted as "other": a label's values must stay a small set.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


def install_request_metrics(app: Flask) -> None:
    """Time every request from the first before-request hook; installed before the others."""
    app.before_request(_start)
    app.after_request(_record)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _record(response: Response) -> Response:
    started = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule
        # The URL rule, never the path: /orders/<order_id> is one series, not one per order.
        route = rule.rule if rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        request_answered(route, method, response.status_code, time.perf_counter() - started)
    return response
