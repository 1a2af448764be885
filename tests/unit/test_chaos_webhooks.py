"""The chaos scorecard's webhook rows: events the shop never acknowledged, or got out of order."""

from __future__ import annotations

from tests.chaos.hook_counts import HookAck, duplicates, events_lost, out_of_order
from tests.chaos.report import rows, table
from tests.chaos.scorecard import judge
from tests.unit.test_chaos_scorecard import CANCELLED, SHIPPED, calm

OWED = (
    (SHIPPED, "received"),
    (SHIPPED, "paid"),
    (SHIPPED, "shipped"),
    (CANCELLED, "received"),
    (CANCELLED, "cancelled"),
)


def ack(event_id: int, order_id: str, kind: str) -> HookAck:
    return HookAck(event_id, order_id, kind, f"order.{kind}")


IN_ORDER = (
    ack(1, SHIPPED, "received"),
    ack(2, CANCELLED, "received"),
    ack(3, SHIPPED, "paid"),
    ack(5, CANCELLED, "cancelled"),
    ack(4, SHIPPED, "shipped"),
)


def webhook_rows(card_rows: list[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    wanted = {"webhook events lost", "delivered out of order"}
    return {what: (figure, verdict) for what, figure, verdict in card_rows if what in wanted}


def test_every_event_acknowledged_in_order_is_no_violation() -> None:
    card = judge(calm(webhooks_owed=OWED, webhook_acks=IN_ORDER))

    assert card.webhook_events_lost == card.webhooks_out_of_order == 0
    assert card.violations == {}
    assert webhook_rows(rows(card)) == {
        "webhook events lost": ("0", "ok"),
        "delivered out of order": ("0", "ok"),
    }


def test_an_event_never_acknowledged_is_lost() -> None:
    acks = tuple(a for a in IN_ORDER if a.kind != "paid")

    card = judge(calm(webhooks_owed=OWED, webhook_acks=acks))

    assert card.webhook_events_lost == 1
    assert "webhook_events_lost" in card.violations
    assert webhook_rows(rows(card))["webhook events lost"] == ("1", "VIOLATION")
    assert "1 order events never acknowledged by the shop" in table(card)


def test_an_event_the_database_has_twice_needs_two_acknowledged() -> None:
    owed = (*OWED, (SHIPPED, "paid"))

    assert events_lost(owed, IN_ORDER) == 1
    assert events_lost(owed, (*IN_ORDER, ack(9, SHIPPED, "paid"))) == 0


def test_an_event_answered_only_with_errors_is_lost() -> None:
    # The receiver keeps only what it answered 200: a 500 or a stall leaves no acknowledgement.
    assert events_lost(OWED, ()) == len(OWED)


def test_an_event_acknowledged_after_a_later_one_of_its_order_is_out_of_order() -> None:
    swapped = (
        ack(1, SHIPPED, "received"),
        ack(3, SHIPPED, "paid"),
        ack(2, CANCELLED, "received"),
        ack(4, SHIPPED, "shipped"),
        ack(5, CANCELLED, "cancelled"),
    )
    late = (ack(1, SHIPPED, "received"), ack(4, SHIPPED, "shipped"), ack(3, SHIPPED, "paid"))

    assert out_of_order(swapped) == 0  # other orders interleave freely
    card = judge(calm(webhooks_owed=OWED, webhook_acks=(*late, *swapped[2:3], *swapped[4:])))

    assert card.webhooks_out_of_order == 1
    assert card.webhook_events_lost == 0
    assert "webhooks_out_of_order" in card.violations
    assert webhook_rows(rows(card))["delivered out of order"] == ("1", "VIOLATION")


def test_a_resend_of_an_event_already_acknowledged_is_a_duplicate_not_a_violation() -> None:
    # At least once: the first acknowledgement counts; the resend is only reported.
    resent = (*IN_ORDER[:3], ack(1, SHIPPED, "received"), *IN_ORDER[3:])

    card = judge(calm(webhooks_owed=OWED, webhook_acks=resent))

    assert duplicates(resent) == 1
    assert card.webhooks_out_of_order == card.webhook_events_lost == 0
    assert card.violations == {}
