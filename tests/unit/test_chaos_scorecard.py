"""The chaos scorecard's arithmetic: given what a run observed, which promises were broken."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.chaos.facts import Charge, Facts, KeyUse, LineRow, MailRow, OrderRow, StockRow
from tests.chaos.mailkinds import MailReader
from tests.chaos.plan import make_plan
from tests.chaos.rest import Snapshot, unsettled
from tests.chaos.scorecard import (
    RECOVERY_LIMIT_SECONDS,
    SAME_MESSAGE_ID_DUPLICATE_ALLOWANCE,
    judge,
)

SHIPPED, DECLINED, CANCELLED = "a" * 8 + "-1", "b" * 8 + "-2", "c" * 8 + "-3"


def mails_for(order_id: str, *kinds: str) -> tuple[MailRow, ...]:
    return tuple(MailRow(order_id, kind, f"<{kind}.{order_id}@shop>") for kind in kinds)


def calm(**changes: Any) -> Facts:
    """A run that kept every promise: one order shipped, one declined, one refunded."""
    facts = Facts(
        seed=7,
        orders=(
            OrderRow(SHIPPED, "shipped", 1000, "s@example.com"),
            OrderRow(DECLINED, "payment_failed", 500, "d@example.com"),
            OrderRow(CANCELLED, "cancelled", 700, "c@example.com"),
        ),
        lines=(LineRow(SHIPPED, "111.111.11", 2), LineRow(CANCELLED, "111.111.11", 1)),
        stock=(StockRow("NJ", "111.111.11", 3, 0), StockRow("IL", "111.111.11", 5, 0)),
        seeded={("NJ", "111.111.11"): 5, ("IL", "111.111.11"): 5},
        charges=(Charge(SHIPPED, 1000, 0), Charge(CANCELLED, 700, 700)),
        mails=(
            mails_for(SHIPPED, "received", "paid", "shipped")
            + mails_for(DECLINED, "received", "payment_failed")
            + mails_for(CANCELLED, "received", "paid", "cancelled", "refunded")
        ),
        keys=(
            KeyUse("k1", "s@example.com", frozenset({SHIPPED})),
            KeyUse("k2", "d@example.com", frozenset({DECLINED})),
            KeyUse("k3", "c@example.com", frozenset({CANCELLED})),
        ),
        refunded_in_db=frozenset({CANCELLED}),
        recovery_seconds=12.0,
    )
    return dataclasses.replace(facts, **changes)


def test_a_run_that_kept_every_promise_has_no_violations() -> None:
    card = judge(calm())

    assert card.violations == {}
    assert card.accepted == 3
    assert card.by_status == {"cancelled": 1, "payment_failed": 1, "shipped": 1}


def test_an_order_still_moving_and_one_the_database_never_had_are_lost() -> None:
    facts = calm()
    moving = (*facts.orders[:2], OrderRow(CANCELLED, "allocated", 700, "c@example.com"))
    keys = (*facts.keys, KeyUse("k4", "x@example.com", frozenset({"gone"})))

    card = judge(calm(orders=moving, keys=keys))

    assert card.lost == 2
    assert card.by_status["missing from the database"] == 1
    assert "lost" in card.violations


def test_a_key_that_made_a_second_order_is_counted_once() -> None:
    twin = OrderRow("d" * 8 + "-4", "shipped", 1000, "s@example.com")
    facts = calm()

    card = judge(calm(orders=(*facts.orders, twin)))

    assert card.keys_with_two_orders == 1
    assert "keys_with_two_orders" in card.violations


def test_two_charges_for_one_order_are_a_double_charge() -> None:
    card = judge(calm(charges=(*calm().charges, Charge(SHIPPED, 1000, 0))))

    assert card.double_charges == 1
    assert "double_charges" in card.violations


def test_a_charge_above_the_order_total_is_a_double_charge_too() -> None:
    card = judge(calm(charges=(Charge(SHIPPED, 1200, 0), Charge(CANCELLED, 700, 700))))

    assert card.double_charges == 1


def test_money_kept_for_a_cancelled_order_is_charged_but_neither_fulfilled_nor_refunded() -> None:
    card = judge(calm(charges=(Charge(SHIPPED, 1000, 0), Charge(CANCELLED, 700, 0))))

    assert card.charged_not_fulfilled_or_refunded == 1
    assert card.missing_mails == {}  # no refund happened, so none was promised


def test_a_refund_the_database_records_but_the_gateway_never_made_is_counted() -> None:
    card = judge(calm(refunded_in_db=frozenset({CANCELLED, DECLINED})))

    assert card.refunds_without_charge == 1


def test_a_shipped_order_the_gateway_never_charged_is_shipped_unpaid() -> None:
    card = judge(calm(charges=(Charge(CANCELLED, 700, 700),)))

    assert card.shipped_unpaid == 1


def test_shipping_more_than_was_received_is_oversold() -> None:
    lines = (LineRow(SHIPPED, "111.111.11", 12),)
    stock = (StockRow("NJ", "111.111.11", 0, 0), StockRow("IL", "111.111.11", -2, 0))

    card = judge(calm(lines=lines, stock=stock))

    assert card.oversold_units == 2 + 2  # the negative row, and the units beyond the ten received
    assert "oversold_units" in card.violations


def test_units_off_the_shelf_that_no_shipment_took_have_leaked() -> None:
    stock = (StockRow("NJ", "111.111.11", 2, 1), StockRow("IL", "111.111.11", 5, 0))

    card = judge(calm(stock=stock))

    # One unit left the shelf without a shipment, and one is still held with every order final.
    assert card.stock_leaked_units == 1 + 1


def test_a_resent_mail_with_the_same_message_id_is_a_violation_when_no_sender_died() -> None:
    card = judge(calm(mails=(*calm().mails, *mails_for(SHIPPED, "shipped"))))

    assert card.duplicate_mails_same_message_id == 1
    assert card.duplicate_mails_other_message_id == 0
    assert card.same_message_id_allowed == SAME_MESSAGE_ID_DUPLICATE_ALLOWANCE == 0
    assert "duplicate_mails_same_message_id" in card.violations


def test_one_resend_with_the_same_message_id_per_sender_killed_keeps_the_promise() -> None:
    resent = (*mails_for(SHIPPED, "shipped"), *mails_for(DECLINED, "received"))
    within = judge(calm(mails=(*calm().mails, *resent), mail_senders_killed=2))
    beyond = judge(calm(mails=(*calm().mails, *resent), mail_senders_killed=1))

    assert within.same_message_id_allowed == 2
    assert "duplicate_mails_same_message_id" not in within.violations
    assert beyond.violations["duplicate_mails_same_message_id"] == (
        "2 duplicate mails with the same Message-ID (allowed: 1)"
    )


def test_a_duplicate_mail_with_another_message_id_is_a_violation() -> None:
    card = judge(calm(mails=(*calm().mails, MailRow(SHIPPED, "shipped", "<other@shop>"))))

    assert card.duplicate_mails_other_message_id == 1
    assert "duplicate_mails_other_message_id" in card.violations


def test_promised_mails_never_received_are_missing_by_kind() -> None:
    kept = tuple(m for m in calm().mails if (m.order_id, m.kind) != (SHIPPED, "shipped"))
    kept = tuple(m for m in kept if m.kind != "received")

    card = judge(calm(mails=kept))

    assert card.missing_mails == {"received": 3, "shipped": 1}


def test_a_delivered_order_promises_the_delivered_mail() -> None:
    delivered = OrderRow(SHIPPED, "delivered", 1000, "s@example.com")

    card = judge(calm(orders=(delivered, *calm().orders[1:])))

    assert card.missing_mails == {"delivered": 1}


def test_an_order_whose_every_parcel_was_delivered_must_be_delivered() -> None:
    card = judge(calm(delivered_by_carrier=frozenset({SHIPPED})))

    assert card.deliveries_lost == 1


def test_dead_letters_a_slow_recovery_and_a_crash_are_violations() -> None:
    slow = RECOVERY_LIMIT_SECONDS + 1
    card = judge(calm(dead_letters=2, recovery_seconds=slow, crashes=("payments", "payments")))

    assert set(card.violations) == {"dead_letters", "recovery_seconds", "crashed_processes"}
    assert card.crashed_processes == {"payments": 2}


def test_a_follow_up_given_up_for_good_is_a_violation() -> None:
    card = judge(calm(follow_ups_given_up=1))

    assert set(card.violations) == {"follow_ups_given_up"}
    assert card.violations["follow_ups_given_up"] == "1 follow-ups given up for good"


def test_no_rest_by_the_deadline_says_what_still_moved() -> None:
    card = judge(calm(recovery_seconds=None, unsettled=("orders not at a final status: paid 1",)))

    assert "paid 1" in card.violations["recovery_seconds"]


def test_a_system_with_moving_orders_unrefunded_money_or_pending_rows_is_not_at_rest() -> None:
    snapshot = Snapshot(
        statuses={SHIPPED: "paid", CANCELLED: "cancelled"},
        charges=(Charge(CANCELLED, 700, 0),),
        pending_rows={"mails claimed, not sent": 2, "outbox rows unpublished": None},
        mails=4,
        client_pending=1,
    )

    reasons = unsettled(snapshot)

    assert len(reasons) == 4
    assert reasons[0] == "orders not at a final status: paid 1"


def test_a_settled_system_is_at_rest() -> None:
    snapshot = Snapshot({SHIPPED: "shipped"}, (Charge(SHIPPED, 1000, 0),), {"x": 0}, 3, 0)

    assert unsettled(snapshot) == []


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("We received your order aaaaaaaa", "received"),
        ("Your order aaaaaaaa is on its way", "shipped"),
    ],
)
def test_a_mail_is_told_apart_by_its_subject_not_its_message_id(subject: str, kind: str) -> None:
    reader = MailReader(
        {
            "received": "We received your order {short}",
            "shipped": "Your order {short} is on its way",
        },
        calm().orders,
    )

    assert reader.read(subject, ["s@example.com"], "<anything>") == MailRow(
        SHIPPED, kind, "<anything>"
    )
    assert reader.read("Low stock: 111.111.11", ["ops@example.com"], "<x>") is None


def test_the_same_seed_plans_the_same_run() -> None:
    assert make_plan(5, 40, 4.0) == make_plan(5, 40, 4.0)
    assert make_plan(5, 40, 4.0) != make_plan(6, 40, 4.0)


PICKUP = "e" * 8 + "-5"


def test_a_pickup_order_waiting_at_its_warehouse_is_final_paid_and_holds_its_units() -> None:
    facts = calm()
    waiting = OrderRow(PICKUP, "ready_for_pickup", 400, "p@example.com")
    stock = (StockRow("NJ", "111.111.11", 3, 1), StockRow("IL", "111.111.11", 5, 0))

    card = judge(
        calm(
            orders=(*facts.orders, waiting),
            lines=(*facts.lines, LineRow(PICKUP, "111.111.11", 1)),
            stock=stock,
            charges=(*facts.charges, Charge(PICKUP, 400, 0)),
            mails=facts.mails + mails_for(PICKUP, "received", "paid", "ready_for_pickup"),
            keys=(*facts.keys, KeyUse("k5", "p@example.com", frozenset({PICKUP}))),
        )
    )

    assert card.violations == {}
    assert card.by_status["ready_for_pickup"] == 1


def test_a_collected_pickup_order_took_its_units_off_the_shelf() -> None:
    facts = calm()
    collected = OrderRow(PICKUP, "collected", 400, "p@example.com")
    base = {
        "orders": (*facts.orders, collected),
        "lines": (*facts.lines, LineRow(PICKUP, "111.111.11", 1)),
        "charges": (*facts.charges, Charge(PICKUP, 400, 0)),
        "mails": facts.mails + mails_for(PICKUP, "received", "paid", "ready_for_pickup"),
        "keys": (*facts.keys, KeyUse("k5", "p@example.com", frozenset({PICKUP}))),
    }
    taken = (StockRow("NJ", "111.111.11", 2, 0), StockRow("IL", "111.111.11", 5, 0))

    kept = judge(calm(**base))
    card = judge(calm(**base, stock=taken))

    assert kept.stock_leaked_units == 1
    assert card.missing_mails == {"collected": 1}
    assert card.stock_leaked_units == 0
