"""Helpers the payment sandbox tests share: a client, a charge form, signed requests, the ledger."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from devstack.paysandbox import create_sandbox_app

API_KEY = "sk_test_unit"


def sandbox_client() -> FlaskClient:
    """A client of a fresh sandbox, seeded so that fault rolls repeat."""
    return create_sandbox_app(seed=7).test_client()


def charge_form(**overrides: Any) -> dict[str, Any]:
    form = {
        "amount": "2500",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "metadata[order_id]": "ord_1",
    }
    return {**form, **overrides}


def post(
    client: FlaskClient,
    path: str,
    form: dict[str, Any],
    key: str | None = None,
    api_key: str = API_KEY,
) -> TestResponse:
    headers = {"Authorization": f"Bearer {api_key}"}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(path, data=form, headers=headers)


def search(client: FlaskClient, query: str, api_key: str = API_KEY) -> TestResponse:
    headers = {"Authorization": f"Bearer {api_key}"}
    return client.get("/v1/payment_intents/search", query_string={"query": query}, headers=headers)


def by_order(order_id: str) -> str:
    """The search query for intents whose metadata names `order_id`."""
    return f"metadata['order_id']:'{order_id}'"


def ledger(client: FlaskClient) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get("/_sandbox/ledger").get_json()
    return entries


def new_key() -> str:
    return f"key-{uuid.uuid4()}"
