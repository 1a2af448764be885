"""Money converges: charged means fulfilled or refunded, whatever order the answers arrive in.

Each test drives the charge, cancel and settle steps against a real sandbox over HTTP, then
runs the order's follow-ups as the workers would, and reads the sandbox's ledger.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select, update

from bootstrap import Context, install_context
from models.domain.clock import utcnow
from models.domain.follow_ups import TryLater
from models.domain.messages import OrderCancelled
from models.domain.payments import charge_key
from models.services.allocate import Allocated, allocate_order
from models.services.charge import MAX_ATTEMPTS, Charged, charge_order, give_up, record_charge
from models.services.dispatch import follow_message
from models.tables.fulfilment import Allocation, Payment
from models.tables.orders import Order
from tests.factories import NEWARK, add_product, add_warehouse, order_body, stock_of
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox
from tests.integration.stripe_support import NO_FAULTS, gateway, set_faults
from workers.adapters.stripe import StripeGateway

pytest_plugins = ["tests.admin_fixtures"]


@pytest.fixture
def faulty(context: Context, sandbox: str) -> Iterator[tuple[Context, str]]:
    """The run's context with a sandbox of this module's own, which tests make fail on purpose."""
    own = dataclasses.replace(context, gateway=gateway(sandbox, timeout=0.5, attempts=1))
    install_context(own)
    yield own, sandbox
    install_context(context)


def allocated(client: FlaskClient, ctx: Context, method: str = "pm_card_visa") -> uuid.UUID:
    bed = add_product(ctx.sessions, price=2000)
    add_warehouse(ctx.sessions, latitude=NEWARK[0], longitude=NEWARK[1], stock={bed: 3})
    response = client.post("/orders", json=order_body([(bed, 1)], payment_method=method))
    assert response.status_code == 202, response.get_json()
    order_id = uuid.UUID(response.get_json()["order_id"])
    outcome = allocate_order(ctx.work, ctx.directory, ctx.settings, order_id).outcome
    assert outcome is Allocated.ALLOCATED
    return order_id


def ledger_entry(url: str, order_id: uuid.UUID) -> dict[str, Any] | None:
    entries = requests.get(f"{url}/_sandbox/ledger", timeout=5).json()
    mine = [e for e in entries if e["metadata"].get("order_id") == str(order_id)]
    assert len(mine) <= 1, "charged twice"
    return mine[0] if mine else None


def payment_of(ctx: Context, order_id: uuid.UUID) -> Payment:
    with ctx.sessions() as session:
        return session.scalars(select(Payment).where(Payment.order_id == order_id)).one()


def status_of(ctx: Context, order_id: uuid.UUID) -> str:
    with ctx.sessions() as session:
        return str(session.scalar(select(Order.status).where(Order.id == order_id)))


def cancel(client: FlaskClient, ctx: Context, order_id: uuid.UUID, headers: dict[str, str]) -> None:
    response = client.post(
        f"/admin/orders/{order_id}/cancel", json={"reason": "changed my mind"}, headers=headers
    )
    assert response.status_code == 202, response.get_json()
    # What the dispatcher records when the cancellation's message arrives.
    with ctx.work() as session:
        follow_message(session, OrderCancelled(order_id, utcnow()))


def mail_kinds(mailbox: Mailbox, order_id: uuid.UUID) -> list[str]:
    ids = [str(m["Message-ID"]).strip().strip("<") for m in mailbox.for_order(str(order_id))]
    return sorted(i.split(".")[0] for i in ids)


def test_a_charge_whose_answer_timed_out_and_whose_order_was_then_cancelled_is_refunded(
    client: FlaskClient,
    faulty: tuple[Context, str],
    admin_headers: dict[str, str],
    mailbox: Mailbox,
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx)
    set_faults(url, timeout_after_charge_rate=1, stall_seconds=1.5)
    with pytest.raises(TryLater):
        charge_order(ctx.work, ctx.gateway, order_id)
    set_faults(url, **NO_FAULTS)
    assert payment_of(ctx, order_id).status == "pending"

    cancel(client, ctx, order_id, admin_headers)
    time.sleep(ctx.gateway.longest_call_seconds)  # till the charge sent can no longer land
    run_follow_ups(ctx, order_id)

    entry = ledger_entry(url, order_id)
    assert entry is not None
    assert entry["refunded"] == entry["amount"]
    assert len(entry["refunds"]) == 1
    assert payment_of(ctx, order_id).status == "refunded"
    assert status_of(ctx, order_id) == "cancelled"
    assert {"cancelled", "refunded"} <= set(mail_kinds(mailbox, order_id))


def test_a_charge_that_lands_after_the_payment_was_given_up_is_refunded(
    client: FlaskClient, faulty: tuple[Context, str], mailbox: Mailbox
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx)
    with pytest.raises(TryLater):  # the attempt whose answer never comes
        charge_order(ctx.work, unreachable_gateway(), order_id)
    assert give_up(ctx.work, unreachable_gateway(), order_id, "gateway down") is Charged.ABANDONED
    assert status_of(ctx, order_id) == "payment_failed"
    # The attempt that was in flight all along reaches the gateway and comes back charged.
    late = ctx.gateway.charge(
        idempotency_key=charge_key(order_id),
        amount=2000 + 4900,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=str(order_id),
    )

    with ctx.work() as session:
        outcome = record_charge(session, order_id, late)
    run_follow_ups(ctx, order_id)

    assert outcome is Charged.REFUND_NEEDED
    entry = ledger_entry(url, order_id)
    assert entry is not None
    assert entry["refunded"] == entry["amount"]
    assert payment_of(ctx, order_id).status == "refunded"
    assert "refunded" in mail_kinds(mailbox, order_id)


def test_a_cancel_while_a_charge_may_still_land_waits_for_it_then_refunds_what_landed(
    client: FlaskClient, faulty: tuple[Context, str], admin_headers: dict[str, str]
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx)
    with pytest.raises(TryLater):  # sent; its answer never came back
        charge_order(ctx.work, unreachable_gateway(), order_id)
    cancel(client, ctx, order_id, admin_headers)

    # The gateway has no charge yet, but the one sent may still land: nothing is concluded.
    run_follow_ups(ctx, order_id, wait_out_delays=False)
    assert payment_of(ctx, order_id).status == "pending"
    ctx.gateway.charge(  # the attempt reaches the gateway after all
        idempotency_key=charge_key(order_id),
        amount=2000 + 4900,
        currency="usd",
        payment_method="pm_card_visa",
        order_id=str(order_id),
    )
    time.sleep(ctx.gateway.longest_call_seconds)
    run_follow_ups(ctx, order_id)

    entry = ledger_entry(url, order_id)
    assert entry is not None
    assert entry["refunded"] == entry["amount"]
    assert payment_of(ctx, order_id).status == "refunded"


def test_a_processing_payment_is_not_a_decline_and_is_paid_once_it_settles(
    client: FlaskClient, faulty: tuple[Context, str]
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx, method="pm_card_processing")

    with pytest.raises(TryLater):
        charge_order(ctx.work, ctx.gateway, order_id)
    assert status_of(ctx, order_id) == "allocated"
    assert payment_of(ctx, order_id).status == "pending"
    time.sleep(1.2)

    assert charge_order(ctx.work, ctx.gateway, order_id) is Charged.PAID
    entry = ledger_entry(url, order_id)
    assert entry is not None
    assert entry["refunded"] == 0


def test_a_payment_the_customer_never_authenticates_is_cancelled_at_the_gateway(
    client: FlaskClient, faulty: tuple[Context, str], mailbox: Mailbox
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx, method="pm_card_authenticationRequired")
    with pytest.raises(TryLater):
        charge_order(ctx.work, ctx.gateway, order_id)
    assert status_of(ctx, order_id) == "allocated"
    with ctx.work() as session:  # every attempt but the last has asked and waited
        session.execute(
            update(Payment).where(Payment.order_id == order_id).values(attempts=MAX_ATTEMPTS - 1)
        )

    assert charge_order(ctx.work, ctx.gateway, order_id) is Charged.DECLINED
    run_follow_ups(ctx, order_id)

    payment = payment_of(ctx, order_id)
    assert (payment.status, payment.failure_code) == ("failed", "not_settled")
    intent = requests.get(
        f"{url}/v1/payment_intents/{payment.gateway_id}",
        headers={"Authorization": "Bearer sk_test_x"},
        timeout=5,
    ).json()
    assert intent["status"] == "canceled"
    assert ledger_entry(url, order_id) is None
    assert "payment_failed" in mail_kinds(mailbox, order_id)


def test_an_order_cancelled_while_its_payment_waits_on_the_customer_is_never_charged(
    client: FlaskClient, faulty: tuple[Context, str], admin_headers: dict[str, str]
) -> None:
    ctx, url = faulty
    order_id = allocated(client, ctx, method="pm_card_authenticationRequired")
    with pytest.raises(TryLater):
        charge_order(ctx.work, ctx.gateway, order_id)

    cancel(client, ctx, order_id, admin_headers)
    run_follow_ups(ctx, order_id)

    payment = payment_of(ctx, order_id)
    assert (payment.status, payment.failure_code) == ("failed", "canceled")
    assert ledger_entry(url, order_id) is None


def test_giving_up_lets_a_fault_in_our_own_code_surface_instead_of_abandoning_the_payment(
    client: FlaskClient, faulty: tuple[Context, str]
) -> None:
    ctx, _ = faulty
    order_id = allocated(client, ctx)
    with pytest.raises(TryLater):
        charge_order(ctx.work, unreachable_gateway(), order_id)

    class Broken(StripeGateway):
        def find_charge(self, *, order_id: str) -> None:
            raise KeyError("a bug, not an outage")

    broken = Broken(api_key="sk_test_x", api_base="http://127.0.0.1:9", timeout=0.3, attempts=1)
    with pytest.raises(KeyError):
        give_up(ctx.work, broken, order_id, "attempts ran out")

    assert status_of(ctx, order_id) == "allocated"
    assert payment_of(ctx, order_id).status == "pending"
    assert stock_of(ctx.sessions, *first_allocation(ctx, order_id))[1] == 1


def unreachable_gateway() -> StripeGateway:
    return StripeGateway(
        api_key="sk_test_x", api_base="http://127.0.0.1:9", timeout=0.3, attempts=1
    )


def first_allocation(ctx: Context, order_id: uuid.UUID) -> tuple[int, str]:
    with ctx.sessions() as session:
        row = session.scalars(select(Allocation).where(Allocation.order_id == order_id)).first()
        assert row is not None
        return row.warehouse_id, row.article_number
