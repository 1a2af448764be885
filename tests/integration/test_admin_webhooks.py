"""Webhook subscriptions through the admin API: made, listed, changed, removed; deliveries
listed with their log and sent again; hostile input refused naming the field."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from bootstrap import Context
from tests.admin_support import errors_of
from tests.integration.webhook_support import deliveries_of, place, run_deliveries
from tests.webhook_receiver import receiver, verify_signature

pytest_plugins = ["tests.admin_fixtures"]


def test_a_subscription_is_made_with_its_secret_shown_once_then_changed_and_removed(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    body = {"url": "https://shop.example/hooks", "event_types": ["order.paid", "order.shipped"]}
    made = client.post("/admin/webhooks", json=body, headers=admin_headers)
    assert made.status_code == 201
    created = made.get_json()
    assert created["secret"].startswith("whsec_")
    one = f"/admin/webhooks/{created['id']}"

    shown = client.get(one, headers=admin_headers).get_json()
    listed = client.get("/admin/webhooks", headers=admin_headers).get_json()
    off = client.patch(one, json={"active": False}, headers=admin_headers).get_json()
    on = client.patch(one, json={"active": True}, headers=admin_headers).get_json()
    removed = client.delete(one, headers=admin_headers)

    assert "secret" not in shown
    assert shown["event_types"] == ["order.paid", "order.shipped"]
    assert created["id"] in [s["id"] for s in listed["subscriptions"]]
    assert all("secret" not in s for s in listed["subscriptions"])
    assert (off["active"], off["disabled_reason"]) == (False, "disabled through the admin API")
    assert (on["active"], on["disabled_at"]) == (True, None)
    assert removed.status_code == 204
    assert client.get(one, headers=admin_headers).status_code == 404


def test_hostile_subscriptions_are_refused_naming_the_field(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    cases = {
        "url": {"url": "ftp://shop.example/hooks"},
        "event_types[0]": {"url": "https://shop.example/h", "event_types": ["order.eaten"]},
        "secret": {"url": "https://shop.example/h", "secret": "short"},
        "colour": {"url": "https://shop.example/h", "colour": "red"},
    }
    for field, body in cases.items():
        response = client.post("/admin/webhooks", json=body, headers=admin_headers)
        assert response.status_code == 422, field
        assert field in [e["field"] for e in errors_of(response)], field
    nothing = client.patch("/admin/webhooks/1", json={}, headers=admin_headers)
    huge = client.get(f"/admin/webhooks/{2**40}", headers=admin_headers)
    bad_limit = client.get("/admin/webhooks/1/deliveries?limit=0", headers=admin_headers)
    assert nothing.status_code == 422
    assert huge.status_code == 404
    assert [e["field"] for e in errors_of(bad_limit)] == ["limit"]


def _succeeded_on_the_second_attempt(shown: dict[str, Any]) -> None:
    assert (shown["status"], shown["attempts"]) == ("succeeded", 2)
    assert shown["event_type"] == "order.placed"
    assert [(a["status_code"], a["outcome"]) for a in shown["log"]] == [
        (500, "retry"),
        (200, "succeeded"),
    ]
    assert all(isinstance(a["latency_ms"], int) for a in shown["log"])


def test_deliveries_are_listed_with_their_log_and_sent_again_on_request(
    client: FlaskClient,
    admin_headers: dict[str, str],
    sessions: sessionmaker[Session],
    context: Context,
) -> None:
    secret = "whsec_admin_test_secret_0123"
    with receiver() as (url, script):
        made = client.post(
            "/admin/webhooks",
            json={"url": url, "event_types": ["order.placed"], "secret": secret},
            headers=admin_headers,
        ).get_json()
        deliveries_url = f"/admin/webhooks/{made['id']}/deliveries"
        try:
            script.statuses = [500]
            order_id = place(client, sessions)
            (delivery,) = deliveries_of(sessions, order_id)
            run_deliveries(context, delivery.id)
            listed = client.get(deliveries_url, headers=admin_headers).get_json()
            again = client.post(f"{deliveries_url}/{delivery.id}/redeliver", headers=admin_headers)
            run_deliveries(context, delivery.id)
            missing = client.post(f"{deliveries_url}/{2**40}/redeliver", headers=admin_headers)
        finally:
            client.delete(f"/admin/webhooks/{made['id']}", headers=admin_headers)

    (shown,) = listed["deliveries"]
    _succeeded_on_the_second_attempt(shown)
    assert again.status_code == 202
    assert again.get_json()["status"] == "pending"
    assert missing.status_code == 404
    assert [r.status for r in script.received] == [500, 200, 200]
    first, second = script.successes()
    assert first.body == second.body
    assert json.loads(second.body)["data"]["order_id"] == str(order_id)
    assert verify_signature(secret, second.headers["Webhook-Signature"], second.body)
