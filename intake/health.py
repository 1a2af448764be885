"""Liveness and readiness."""

from __future__ import annotations

from collections.abc import Callable

import redis
from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from intake.api_models import Alive, Readiness
from intake.openapi import Reply, operation
from intake.runtime import runtime

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@operation(replies={200: Alive})
def healthz() -> Response:
    """The process is alive and serving."""
    return jsonify({"status": "ok"})


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
    except Exception as exc:  # readiness reports any failure, whatever its type
        return f"error: {type(exc).__name__}"
    return "ok"


@bp.get("/readyz")
@operation(replies={200: Readiness, 503: Reply(Readiness, description="Not ready: see `checks`")})
def readyz() -> Response:
    """The database, Redis and SQS all answer."""
    rt = runtime()

    def database() -> object:
        with rt.sessions() as session:
            return session.execute(text("SELECT 1")).scalar_one()

    def broker() -> object:
        client = redis.Redis.from_url(
            rt.settings.require_redis_url(), socket_timeout=2, socket_connect_timeout=2
        )
        try:
            return client.ping()
        finally:
            client.close()

    checks = {"database": _check(database), "redis": _check(broker), "sqs": _check(rt.queue.depth)}
    ready = all(result == "ok" for result in checks.values())
    response = jsonify({"status": "ready" if ready else "not ready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response
