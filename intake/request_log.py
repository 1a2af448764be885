"""Each request's id, and its one access line.

The id is the client's `X-Request-ID` when it is a sane token, a fresh one otherwise; it is
answered in the same header, is on every line logged while the request is served, and travels
with the orders it records to the dispatcher and the workers (`models.domain.follow_ups`).
"""

from __future__ import annotations

import time
import uuid

import structlog
from flask import Flask, Response, g, request

from models.domain.follow_ups import REQUEST_ID, sane_request_id

HEADER = "X-Request-ID"
# Probes and scrapes come every few seconds and say nothing about orders.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})

log = structlog.stdlib.get_logger("intake.access")


def _begin() -> None:
    structlog.contextvars.clear_contextvars()
    g.request_id = sane_request_id(request.headers.get(HEADER)) or uuid.uuid4().hex
    g.request_id_token = REQUEST_ID.set(g.request_id)
    g.request_started = time.perf_counter()


def _access_line(response: Response) -> Response:
    """Method, route (never the query string's values), status and time taken; no body."""
    response.headers[HEADER] = g.request_id
    route = request.url_rule.rule if request.url_rule is not None else None
    elapsed = round((time.perf_counter() - g.request_started) * 1000, 1)
    about = (request.view_args or {}).get("order_id")
    line = {"order_id": str(about)} if about is not None else {}
    say = log.debug if route in QUIET_ROUTES else log.info
    say(
        "request",
        method=request.method,
        route=route,
        status=response.status_code,
        duration_ms=elapsed,
        **line,
    )
    return response


def _end(_: BaseException | None) -> None:
    token = g.pop("request_id_token", None)
    if token is not None:
        REQUEST_ID.reset(token)
    structlog.contextvars.clear_contextvars()


def register_request_log(app: Flask) -> None:
    """Give every request an id and an access line; register before any other hook."""
    app.before_request(_begin)
    app.after_request(_access_line)
    app.teardown_request(_end)
