"""Rate limits per client address on the real Redis: what counts, the 429, the switch, no Redis.

Each test has client addresses of its own, and the run's key prefix keeps its counters apart
from any other run on the same Redis.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bootstrap import Context
from devstack.processes import free_port
from intake import create_app
from intake.auth import CUSTOMER, issue_admin_token, require_admin
from intake.limits import ADMIN_BLUEPRINTS
from intake.problems import PROBLEM_JSON
from settings import Settings
from tests.factories import order_body
from tests.keyed_client import KeyedClient

LOW = "3/minute"


def limited_app(settings: Settings, context: Context, **changes: Any) -> Flask:
    """The intake with rate limits on, as `changes` set them."""
    app = create_app(settings.model_copy(update={"rate_limits_enabled": True, **changes}), context)
    app.test_client_class = KeyedClient
    return app


def client_at(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def place(client: FlaskClient, product: str) -> Any:
    return client.post("/orders", json=order_body([(product, 1)]))


def assert_refused(response: Any, what: str, limit: str) -> None:
    """A 429 problem document naming the limit, with Retry-After in whole seconds."""
    assert response.status_code == 429
    assert response.mimetype == PROBLEM_JSON
    problem = response.get_json()
    assert (problem["status"], problem["title"]) == (429, "Too many requests")
    assert what in problem["detail"]
    assert limit in problem["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60


def test_order_creation_over_the_limit_is_refused_with_a_problem_and_retry_after(
    settings: Settings, context: Context, product: str
) -> None:
    app = limited_app(settings, context, rate_limit_order_creation=LOW)
    client = client_at(app, "198.18.1.1")

    answers = [place(client, product).status_code for _ in range(3)]
    refused = place(client, product)

    assert answers == [202, 202, 202]
    assert_refused(refused, "Orders created", "3 per 1 minute")
    assert "order_id" not in refused.get_json()
    assert place(client_at(app, "198.18.1.2"), product).status_code == 202  # per address


def test_only_failed_order_requests_count_and_once_over_even_the_right_token_is_refused(
    settings: Settings, context: Context, product: str
) -> None:
    app = limited_app(settings, context, rate_limit_order_read_failures=LOW)
    placed = place(client_at(app, "198.18.2.1"), product).get_json()
    reader = client_at(app, "198.18.2.2")
    url, right = (
        f"/orders/{placed['order_id']}",
        {"Authorization": f"Bearer {placed['order_token']}"},
    )
    wrong = {"Authorization": "Bearer not-the-token"}

    polls = [reader.get(url, headers=right).status_code for _ in range(6)]
    failures = [
        reader.get(url).status_code,  # no token
        reader.post(f"{url}/cancel", headers=wrong).status_code,  # guessing by cancelling
        reader.get(f"/orders/{uuid.uuid4()}/events", headers=right).status_code,  # not this one
    ]
    refused = reader.get(url, headers=right)

    assert polls == [200] * 6
    assert failures == [401, 404, 404]
    assert_refused(refused, "Order requests with a missing or wrong token", "3 per 1 minute")
    assert client_at(app, "198.18.2.3").get(url, headers=right).status_code == 200


def test_admin_auth_failures_are_limited_and_then_refuse_a_valid_token(
    settings: Settings, context: Context
) -> None:
    app = limited_app(settings, context, rate_limit_admin_auth_failures=LOW)
    client = client_at(app, "198.18.3.1")
    staff = {"Authorization": f"Bearer {issue_admin_token(settings, 'limits')}"}
    customer = {"Authorization": f"Bearer {issue_admin_token(settings, 'c', roles=[CUSTOMER])}"}

    signed_in = [client.get("/admin/warehouses", headers=staff).status_code for _ in range(5)]
    failures = [
        client.get("/admin/warehouses").status_code,
        client.get("/admin/warehouses", headers=customer).status_code,
        # The tracking PATCH is behind the same admin check, outside /admin.
        client.patch(f"/orders/{uuid.uuid4()}/tracking", json={}).status_code,
    ]
    refused = client.get("/admin/warehouses", headers=staff)

    assert signed_in == [200] * 5
    assert failures == [401, 403, 401]
    assert_refused(refused, "Admin requests", "3 per 1 minute")


def test_every_blueprint_behind_the_admin_check_is_covered_by_the_admin_limit(
    app: Flask,
) -> None:
    guarded = {name for name, funcs in app.before_request_funcs.items() if require_admin in funcs}

    assert guarded == ADMIN_BLUEPRINTS


def test_every_carrier_webhook_call_counts(settings: Settings, context: Context) -> None:
    app = limited_app(settings, context, rate_limit_carrier_webhook=LOW)
    client = client_at(app, "198.18.4.1")

    answers = [client.post("/webhooks/carrier", data=b"{}").status_code for _ in range(3)]
    refused = client.post("/webhooks/carrier", data=b"{}")

    assert answers == [401, 401, 401]  # unsigned
    assert_refused(refused, "Carrier webhook calls", "3 per 1 minute")


def test_switched_off_nothing_is_limited(
    settings: Settings, context: Context, product: str
) -> None:
    one = "1/minute"
    app = create_app(
        settings.model_copy(
            update={
                "rate_limits_enabled": False,
                "rate_limit_order_creation": one,
                "rate_limit_order_read_failures": one,
                "rate_limit_carrier_webhook": one,
            }
        ),
        context,
    )
    app.test_client_class = KeyedClient
    client = client_at(app, "198.18.5.1")

    created = [place(client, product).status_code for _ in range(3)]
    reads = [client.get(f"/orders/{uuid.uuid4()}").status_code for _ in range(3)]
    calls = [client.post("/webhooks/carrier", data=b"{}").status_code for _ in range(3)]

    assert (created, reads, calls) == ([202] * 3, [401] * 3, [401] * 3)


def test_behind_proxies_the_forwarded_address_is_counted_and_otherwise_ignored(
    settings: Settings, context: Context
) -> None:
    def calls(app: Flask, forwarded_for: list[str]) -> list[int]:
        client = client_at(app, f"198.18.6.{free_port() % 250}")  # the proxy
        return [
            client.post(
                "/webhooks/carrier", data=b"{}", headers={"X-Forwarded-For": address}
            ).status_code
            for address in forwarded_for
        ]

    one = {"rate_limit_carrier_webhook": "1/minute"}
    behind = limited_app(settings, context, proxy_hops=1, **one)
    exposed = limited_app(settings, context, proxy_hops=0, **one)

    assert calls(behind, ["203.0.113.1", "203.0.113.2", "203.0.113.1"]) == [401, 401, 429]
    assert calls(exposed, ["203.0.113.3", "203.0.113.4"]) == [401, 429]


class Records(logging.Handler):
    """The records of one logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def limiter_log() -> Iterator[list[logging.LogRecord]]:
    """What the rate limiting library logs while the test runs."""
    logger, records = logging.getLogger("flask-limiter"), Records()
    logger.addHandler(records)
    yield records.records
    logger.removeHandler(records)


def test_without_redis_orders_are_taken_counted_in_memory_and_one_warning_logged(
    settings: Settings, context: Context, product: str, limiter_log: list[logging.LogRecord]
) -> None:
    nothing_there = f"redis://127.0.0.1:{free_port()}/0"
    app = limited_app(settings, context, redis_url=nothing_there, rate_limit_order_creation=LOW)
    client = client_at(app, "198.18.7.1")

    answers = [place(client, product).status_code for _ in range(3)]
    refused = place(client, product)

    assert answers == [202, 202, 202]
    assert_refused(refused, "Orders created", "3 per 1 minute")
    warnings = [r for r in limiter_log if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "Rate limit storage unreachable - falling back to in-memory storage"
    ]
