"""Helpers the Stripe adapter tests share: a served sandbox, its faults, ledger and log."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import requests
from werkzeug.serving import make_server

from devstack.paysandbox import create_sandbox_app
from models.ports import CaptureMethod, ChargeResult
from workers.adapters.stripe import StripeGateway

API_KEY = "sk_test_integration"
NO_FAULTS = {
    "latency": 0,
    "failure_rate": 0,
    "timeout_after_charge_rate": 0,
    "stall_seconds": 30,
    "authorization_seconds": 7 * 24 * 3600,
}


@contextlib.contextmanager
def served_sandbox() -> Iterator[str]:
    """A sandbox served over real HTTP on a free port, for the SDK to talk to."""
    server = make_server("127.0.0.1", 0, create_sandbox_app(seed=11), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def set_faults(url: str, **faults: float) -> None:
    requests.post(f"{url}/_sandbox/faults", json=faults, timeout=5).raise_for_status()


@contextlib.contextmanager
def faults(url: str, **faults: float) -> Iterator[None]:
    """The sandbox at `url` with `faults` while the block runs, and none again after it."""
    set_faults(url, **faults)
    try:
        yield
    finally:
        set_faults(url, **NO_FAULTS)


def charges_under(url: str, key: str) -> list[dict[str, Any]]:
    ledger = requests.get(f"{url}/_sandbox/ledger", timeout=5).json()
    return [entry for entry in ledger if entry["idempotency_key"] == key]


def requests_with(url: str, key: str) -> list[dict[str, Any]]:
    seen = requests.get(f"{url}/_sandbox/requests", timeout=5).json()
    return [entry for entry in seen if entry["idempotency_key"] == key]


def search_statuses(url: str) -> list[int | None]:
    seen = requests.get(f"{url}/_sandbox/requests", timeout=5).json()
    return [entry["status"] for entry in seen if entry["path"] == "/v1/payment_intents/search"]


def gateway(url: str, *, timeout: float = 5.0, attempts: int = 3) -> StripeGateway:
    return StripeGateway(api_key=API_KEY, api_base=url, timeout=timeout, attempts=attempts)


def charge(
    gateway: StripeGateway,
    key: str,
    *,
    amount: int = 4200,
    method: str = "pm_card_visa",
    order_id: str | None = None,
    capture: CaptureMethod = "automatic",
) -> ChargeResult:
    return gateway.charge(
        idempotency_key=key,
        amount=amount,
        currency="USD",
        payment_method=method,
        order_id=order_id or f"ord-{key}",
        capture=capture,
    )


def intent_in(url: str, intent_id: str | None) -> dict[str, Any]:
    """The sandbox's intent, its latest charge expanded."""
    intents = requests.get(f"{url}/_sandbox/intents", timeout=5).json()
    [intent] = [intent for intent in intents if intent["id"] == intent_id]
    return dict(intent)


def new_key() -> str:
    return f"charge-{uuid.uuid4()}"
