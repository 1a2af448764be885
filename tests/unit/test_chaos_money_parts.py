"""The chaos scorecard's money checks per payment: an order shipped in parts has a charge per
part, and "charged means fulfilled or refunded" holds for each."""

from __future__ import annotations

from models.domain.mail import SUBJECTS
from tests.chaos.facts import Charge, OrderRow
from tests.chaos.mailkinds import MailReader
from tests.chaos.scorecard import judge
from tests.unit.test_chaos_scorecard import CANCELLED, SHIPPED, calm, mails_for


def test_an_order_shipped_in_two_parts_is_charged_once_per_part() -> None:
    two_parts = (Charge(SHIPPED, 700, 0), Charge(SHIPPED, 300, 0, part=2))
    card = judge(calm(charges=(*two_parts, Charge(CANCELLED, 700, 700))))

    assert (card.double_charges, card.charged_not_fulfilled_or_refunded) == (0, 0)
    assert card.shipped_unpaid == 0


def test_a_second_charge_of_one_part_is_a_double_charge() -> None:
    twice = (Charge(SHIPPED, 300, 0, part=2), Charge(SHIPPED, 300, 0, part=2))
    card = judge(calm(charges=(Charge(SHIPPED, 400, 0), *twice, Charge(CANCELLED, 700, 700))))

    assert card.double_charges == 1


def test_money_kept_for_a_part_whose_lines_were_cancelled_is_unresolved() -> None:
    # Part 2 (300) could not ship, its lines were cancelled, yet its charge was kept.
    orders = (OrderRow(SHIPPED, "shipped", 1000, "s@example.com", due=700), *calm().orders[1:])
    kept = (Charge(SHIPPED, 700, 0), Charge(SHIPPED, 300, 0, part=2))
    card = judge(calm(orders=orders, charges=(*kept, Charge(CANCELLED, 700, 700))))

    assert card.charged_not_fulfilled_or_refunded == 1
    refunded = (Charge(SHIPPED, 700, 0), Charge(SHIPPED, 300, 300, part=2))
    card = judge(calm(orders=orders, charges=(*refunded, Charge(CANCELLED, 700, 700))))
    assert (card.charged_not_fulfilled_or_refunded, card.shipped_unpaid) == (0, 0)


def test_a_mail_about_a_part_is_told_apart_by_its_message_id_and_keeps_its_kinds_promise() -> None:
    order = OrderRow(SHIPPED, "shipped", 1000, "s@example.com")
    reader = MailReader(SUBJECTS, [order])
    subject = SUBJECTS["paid"].format(short=SHIPPED[:8])
    first = reader.read(subject, ["s@example.com"], f"<paid.{SHIPPED}@shop>")
    second = reader.read(subject, ["s@example.com"], f"<paid#2.{SHIPPED}@shop>")
    assert first is not None
    assert second is not None
    assert (first.kind, second.kind) == ("paid", "paid#2")

    mails = (
        *mails_for(SHIPPED, "received", "paid", "partially_shipped#1", "paid#2", "shipped#2"),
        *calm().mails[3:],
    )
    card = judge(calm(mails=mails))
    assert (card.missing_mails, card.duplicate_mails_other_message_id) == ({}, 0)
