"""Counting a run's customer mails: extra copies of one mail, and promised mails never received."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from tests.chaos.facts import Facts, MailRow

# The customer mails each final status promises, beyond "received" (every order) and
# "refunded" (every order whose money went back).
PROMISED: Mapping[str, frozenset[str]] = {
    "shipped": frozenset({"paid", "shipped"}),
    "partially_shipped": frozenset({"paid", "partially_shipped"}),
    "delivered": frozenset({"paid", "shipped", "delivered"}),
    "ready_for_pickup": frozenset({"paid", "ready_for_pickup"}),
    "collected": frozenset({"paid", "ready_for_pickup", "collected"}),
    "rejected": frozenset({"rejected"}),
    "payment_failed": frozenset({"payment_failed"}),
    "cancelled": frozenset({"cancelled"}),
}


def duplicate_mails(mails: Iterable[MailRow]) -> tuple[int, int]:
    """Extra copies of one (order, kind) mail: those sharing a Message-ID, and those not."""
    ids: dict[tuple[str, str], list[str]] = defaultdict(list)
    for mail in mails:
        ids[(mail.order_id, mail.kind)].append(mail.message_id)
    other = sum(len(set(found)) - 1 for found in ids.values())
    same = sum(len(found) - len(set(found)) for found in ids.values())
    return same, other


def missing_mails(facts: Facts) -> dict[str, int]:
    """Promised customer mails never received, by kind."""
    # A mail about one part of an order ('shipped#2') keeps the promise of its kind; an order
    # whose last part was given up ends shipped with that part's cancellation as its last mail.
    received = {(mail.order_id, mail.kind.split("#", 1)[0]) for mail in facts.mails}
    received |= {(o, "shipped") for o, kind in received if kind == "part_payment_failed"}
    refunded = {charge.order_id for charge in facts.charges if charge.refunded > 0}
    missing: Counter[str] = Counter()
    for order in facts.orders:
        wanted = {"received"} | PROMISED.get(order.status, frozenset())
        if order.order_id in refunded:
            wanted.add("refunded")
        missing.update(kind for kind in wanted if (order.order_id, kind) not in received)
    return dict(sorted(missing.items()))
