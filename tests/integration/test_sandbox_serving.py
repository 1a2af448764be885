"""The payment sandbox as `make run` and compose serve it: over connections kept alive, as a
gateway serves its clients, so the adapter's kept connections are what the tests exercise."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from devstack.services import start_payment_sandbox
from tests.integration.stripe_support import charge, charges_under, gateway, intent_in, new_key


def test_one_client_keeps_one_connection_for_many_calls() -> None:
    service = start_payment_sandbox()
    try:
        where = urlsplit(service.url)
        connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=5)
        used, statuses = set(), []
        for _ in range(5):
            connection.request("GET", "/_sandbox/health")
            answer = connection.getresponse()
            answer.read()
            statuses.append(answer.status)
            # http.client opens a new socket only after the server asked to close the last.
            assert connection.sock is not None, answer.getheader("Connection")
            used.add(connection.sock.getsockname())
        connection.close()
        assert statuses == [200] * 5
        assert len(used) == 1
    finally:
        service.stop()


def test_the_adapter_authorises_and_captures_over_the_served_sandbox() -> None:
    service = start_payment_sandbox()
    try:
        payments, key = gateway(service.url), new_key()
        held = charge(payments, key, amount=2500, capture="manual")
        assert held.status == "authorized"
        assert held.gateway_id is not None
        taken = payments.capture(
            idempotency_key=f"{key}-capture",
            payment_intent_id=held.gateway_id,
            amount=2000,
            order_id=f"ord-{key}",
        )
        assert taken.status == "succeeded"
        assert intent_in(service.url, held.gateway_id)["amount_received"] == 2000
        # The same key answers as before, and takes nothing more.
        assert charge(payments, key, amount=2500, capture="manual") == held
        assert [entry["amount"] for entry in charges_under(service.url, f"{key}-capture")] == [2000]
    finally:
        service.stop()
