"""Returns through the API on real services: opened within the window for delivered units, a
label booked and mailed, received once (restock or quarantine), the accepted units refunded
by the payment sandbox, and a second receipt changing nothing."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from bootstrap import Context
from models.domain.returns import RMA_PATTERN
from tests.follow_up_support import run_follow_ups
from tests.infra import Mailbox, message_text
from tests.integration.returns_support import (
    PRICE,
    delivered,
    ledger_entry,
    open_return,
    receive,
    refunds,
    shelf,
)


def _mails(mailbox: Mailbox, order_id: object, subject: str) -> list[str]:
    texts = [message_text(m) for m in mailbox.for_order(str(order_id))]
    return [t for t in texts if t.startswith(subject)]


def test_a_return_opened_gets_an_rma_number_a_label_and_a_mail_with_instructions(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = delivered(client, context, units=3)

    opened = open_return(client, order, [(1, 2)], reason="no_longer_needed")
    run_follow_ups(context, order.order_id)

    assert opened.status_code == 201, opened.get_json()
    document = opened.get_json()
    assert re.fullmatch(RMA_PATTERN, document["rma_number"])
    assert document["status"] == "open"
    assert document["lines"] == [
        {
            "line_no": 1,
            "article_number": order.article,
            "quantity": 2,
            "received": 0,
            "accepted": 0,
            "disposition": None,
        }
    ]
    listed = client.get(f"/orders/{order.order_id}/returns", headers=order.headers).get_json()
    (shown,) = listed["returns"]
    label = shown["label"]
    assert label is not None
    assert label["tracking_number"]
    (mail,) = _mails(mailbox, order.order_id, "How to send back your return")
    assert document["rma_number"] in mail
    assert label["tracking_number"] in mail
    assert label["tracking_url"] in mail
    assert f"2 x Test {order.article} ({order.article})" in mail
    order_doc = client.get(f"/orders/{order.order_id}", headers=order.headers).get_json()
    assert [r["rma_number"] for r in order_doc["returns"]] == [document["rma_number"]]


def test_a_return_outside_the_window_or_before_delivery_is_refused(
    client: FlaskClient, context: Context
) -> None:
    late = delivered(client, context, days_ago=context.settings.return_window_days + 1)
    fresh = delivered(client, context, days_ago=context.settings.return_window_days - 1)

    too_late = open_return(client, late, [(1, 1)])
    in_time = open_return(client, fresh, [(1, 1)])

    assert too_late.status_code == 409
    assert too_late.get_json()["errors"][0]["field"] == "order"
    assert "window" in too_late.get_json()["errors"][0]["reason"]
    assert in_time.status_code == 201


def test_no_more_units_can_be_returned_than_arrived_and_a_refused_return_frees_them(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)

    first = open_return(client, order, [(1, 2)])
    too_many = open_return(client, order, [(1, 2)])
    unknown = open_return(client, order, [(2, 1)])

    assert first.status_code == 201
    assert too_many.status_code == 422
    assert too_many.get_json()["errors"] == [
        {"field": "lines[0].quantity", "reason": "at most 1 unit of line 1 can be returned"}
    ]
    assert unknown.get_json()["errors"][0] == {
        "field": "lines[0].line_no",
        "reason": "the order has no line 2",
    }
    refused = receive(client, context, order, first.get_json()["rma_number"], [(1, 0, 0)])
    assert refused.get_json()["status"] == "refused"
    assert open_return(client, order, [(1, 3)]).status_code == 201


def test_a_return_received_twice_restocks_once_and_refunds_once(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = delivered(client, context, units=2)
    before = shelf(context, order)
    rma = open_return(client, order, [(1, 2)]).get_json()["rma_number"]

    first = receive(client, context, order, rma)
    second = receive(client, context, order, rma)
    run_follow_ups(context, order.order_id)

    assert first.status_code == second.status_code == 200
    assert (first.get_json()["already_received"], second.get_json()["already_received"]) == (
        False,
        True,
    )
    assert first.get_json()["status"] == "received"
    assert shelf(context, order) == (before[0] + 2, before[1], before[2])
    ((amount, status, return_id),) = refunds(context, order.order_id)
    assert (amount, status) == (2 * PRICE, "succeeded")
    assert return_id is not None
    entry = ledger_entry(context, order.order_id)
    assert entry["refunded"] == 2 * PRICE
    assert len(entry["refunds"]) == 1
    (mail,) = _mails(mailbox, order.order_id, "We received your return")
    assert rma in mail
    assert "40.00 USD" in mail


def test_a_partial_receipt_refunds_the_accepted_units_only(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = delivered(client, context, units=3)
    rma = open_return(client, order, [(1, 3)]).get_json()["rma_number"]

    answer = receive(client, context, order, rma, [(1, 2, 2)])
    run_follow_ups(context, order.order_id)

    assert answer.get_json()["status"] == "partially_received"
    assert answer.get_json()["refunded"] == 2 * PRICE
    entry = ledger_entry(context, order.order_id)
    assert entry["refunded"] == 2 * PRICE
    (mail,) = _mails(mailbox, order.order_id, "We received your return")
    assert "Accepted:" in mail
    assert "1 x Test" in mail
    assert "40.00 USD" in mail


def test_a_refused_return_refunds_nothing_and_restocks_nothing(
    client: FlaskClient, context: Context, mailbox: Mailbox
) -> None:
    order = delivered(client, context, units=1)
    before = shelf(context, order)
    rma = open_return(client, order, [(1, 1)]).get_json()["rma_number"]

    answer = receive(client, context, order, rma, [(1, 1, 0)])
    run_follow_ups(context, order.order_id)

    assert answer.get_json()["status"] == "refused"
    assert refunds(context, order.order_id) == []
    assert shelf(context, order) == before
    (mail,) = _mails(mailbox, order.order_id, "We received your return")
    assert "nothing is refunded" in mail


def test_damaged_units_go_to_quarantine_and_unwanted_ones_back_on_hand(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)
    before = shelf(context, order)
    damaged = open_return(client, order, [(1, 1)], reason="damaged").get_json()["rma_number"]
    unwanted = open_return(client, order, [(1, 2)], reason="wrong_item").get_json()["rma_number"]

    receive(client, context, order, damaged)
    receive(client, context, order, unwanted)

    assert shelf(context, order) == (before[0] + 2, before[1], before[2] + 1)
    listed = client.get(f"/orders/{order.order_id}/returns", headers=order.headers).get_json()
    assert [r["lines"][0]["disposition"] for r in listed["returns"]] == ["quarantine", "restock"]


def test_a_return_sent_again_under_its_idempotency_key_is_answered_again_not_opened_twice(
    client: FlaskClient, context: Context
) -> None:
    order = delivered(client, context, units=3)
    path = f"/orders/{order.order_id}/returns"
    body = {"lines": [{"line_no": 1, "quantity": 1}], "reason": "other"}
    keyed = {**order.headers, "Idempotency-Key": '"return-1"'}

    first = client.post(path, json=body, headers=keyed)
    again = client.post(path, json=body, headers=keyed)
    other = client.post(path, json={**body, "reason": "damaged"}, headers=keyed)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    listed = client.get(path, headers=order.headers).get_json()
    assert len(listed["returns"]) == 1
