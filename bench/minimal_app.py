"""The least a POST /orders can do: read the JSON body, insert one row, answer 202.

The intake benchmark serves it with the intake's own gunicorn flags on the same database, so
the gap between the two is what the intake does beyond one committed row per request.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
from flask import Flask, Response, jsonify, request

from devstack.postgres import plain_url
from settings import get_settings

SCHEMA = """CREATE TABLE IF NOT EXISTS minimal_order (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL,
    customer_email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""
INSERT = "INSERT INTO minimal_order (idempotency_key, customer_email) VALUES (%s, %s) RETURNING id"


def create_schema(url: str) -> None:
    """The one table the endpoint writes to (made before gunicorn starts its workers)."""
    with psycopg.connect(plain_url(url), autocommit=True) as connection:
        connection.execute(SCHEMA)


def create_app() -> Flask:
    """The endpoint on the database DATABASE_URL names."""
    url = plain_url(get_settings().require_database_url())
    # One connection per gunicorn thread, kept open: the floor a pool would give, no less.
    local = threading.local()
    app = Flask(__name__)

    def connection() -> psycopg.Connection[Any]:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(url, autocommit=True)
        opened: psycopg.Connection[Any] = local.connection
        return opened

    @app.post("/orders")
    def create_order() -> tuple[Response, int]:
        body = request.get_json()
        key = request.headers.get("Idempotency-Key", "")
        row = connection().execute(INSERT, (key, body["customer"]["email"])).fetchone()
        return jsonify({"id": row[0] if row else None, "status": "received"}), 202

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    return app
