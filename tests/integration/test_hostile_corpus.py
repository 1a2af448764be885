"""A corpus of hostile requests over every order route: each is a 4xx problem document, never
a 5xx, whoever sends it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.auth import CUSTOMER, STAFF_READ, STAFF_WRITE
from settings import Settings
from tests.integration.order_api_support import account_token, bearer, place

JSON = {"Content-Type": "application/json"}
BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"{",
    b"\xff\xfe\x00{",
    b'{"status": 1e999}',
    b'{"status": ' + b"9" * 5000 + b"}",
    b'{"status": "cancelled", "reason": "' + b"x" * 100_000 + b'"}',
    b'{"status": "cancelled", "reason": "a\\u0000b"}',
    b'{"status": "cancelled", "reason": "\\ud800"}',
    b'{"status": ["cancelled"]}',
    b'{"status": {"$ne": null}}',
    b'{"tracking_number": "1Z' + b"9" * 400 + b'", "status": "delivered"}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 2000 + b"1" + b"}" * 2000,
]
QUERIES = [
    "limit=" + "9" * 400,
    "limit=-1",
    "limit=1e3",
    "status=%00",
    "status=" + "x" * 10_000,
    "created_from=99999-01-01T00:00:00Z",
    "created_from=2026-13-45T99:99:99Z",
    "cursor=" + "%F0%9F%92%A9" * 50,
    "cursor=" + "A" * 201,
    "cursor=MjAyNi0wMS0wMVQwMDowMDowMCswMDowMHxub3QtYS11dWlk",
    "access=%00",
    "access=" + "9" * 40 + ".x",
    "created_before=2026-01-01T00:00:00%2B99:00",
]
AUTHORIZATIONS = [
    "Bearer " + "a" * 20_000,
    "Bearer a.b.c",
    "Bearer \u00e9\u00e8.\u00e0.x",
    "Basic YWRtaW46YWRtaW4=",
    "Bearer",
    "bearer  ..",
]


@pytest.fixture
def callers(client: FlaskClient, settings: Settings, product: str) -> dict[str, Any]:
    guest = place(client, product)
    return {
        "order": guest.order_id,
        "headers": [
            guest.headers,
            bearer(account_token(settings, CUSTOMER)),
            bearer(account_token(settings, STAFF_READ, STAFF_WRITE)),
            {},
        ],
    }


def assert_4xx(response: Any, what: object) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.data[:200])
    assert response.content_type == "application/problem+json", what


def routes(order_id: str) -> list[tuple[str, str]]:
    return [
        ("PATCH", f"/orders/{order_id}/status"),
        ("PATCH", f"/orders/{order_id}/tracking"),
        ("POST", f"/orders/{order_id}/cancel"),
        ("POST", "/orders"),
    ]


def test_hostile_bodies_are_4xx_on_every_route_for_everyone(
    client: FlaskClient, callers: dict[str, Any]
) -> None:
    for method, path in routes(callers["order"]):
        for headers in callers["headers"]:
            for body in BODIES:
                response = client.open(path, method=method, data=body, headers={**JSON, **headers})
                what = (method, path, body[:40], sorted(headers))
                if response.status_code < 400:
                    # Only an empty cancel body is a request: a cancel without a reason.
                    assert (method, body) == ("POST", b""), what
                    continue
                assert_4xx(response, what)


def test_hostile_queries_and_paths_are_4xx(client: FlaskClient, callers: dict[str, Any]) -> None:
    order_id = callers["order"]
    paths = ["/orders", f"/orders/{order_id}", f"/orders/{order_id}/events"]
    paths += [f"/orders/{'9' * 5000}", "/orders/%00", f"/orders/{uuid.uuid4()}%00/events"]
    for headers in callers["headers"]:
        for path in paths:
            for query in QUERIES:
                response = client.get(f"{path}?{query}", headers=headers)
                if response.status_code >= 400:
                    assert_4xx(response, (path, query))


def test_hostile_credentials_are_401_never_5xx(
    client: FlaskClient, callers: dict[str, Any]
) -> None:
    order_id = callers["order"]
    for authorization in AUTHORIZATIONS:
        headers = {"Authorization": authorization}
        for method, path in [*routes(order_id), ("GET", f"/orders/{order_id}"), ("GET", "/orders")]:
            response = client.open(path, method=method, json={}, headers=headers)
            assert_4xx(response, (authorization[:30], method, path))
