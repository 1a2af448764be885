"""Judging a run: the facts gathered at its end in, the scorecard and its violations out."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from tests.chaos import hook_counts
from tests.chaos.facts import Facts
from tests.chaos.mail_counts import duplicate_mails, missing_mails
from tests.chaos.money import money_counts
from tests.chaos.statuses import FINAL, OFF_THE_SHELF, WAITING_FOR_PICKUP

RECOVERY_LIMIT_SECONDS = 60.0
# SMTP cannot be exactly-once: a worker that dies between the server's 250 and recording
# the send resends with the same Message-ID. How many such resends a run may show.
# The documented exception (workers/notifying.py): a sender killed between the server's
# acceptance and its record resends, with the same Message-ID. At most one such duplicate
# per sender killed is within the promise; this many more are allowed on top (none).
SAME_MESSAGE_ID_DUPLICATE_ALLOWANCE = 0


@dataclass(frozen=True)
class Scorecard:
    """The run's figures, and each broken promise in words."""

    seed: int
    accepted: int
    by_status: dict[str, int]
    lost: int
    keys_with_two_orders: int
    oversold_units: int
    stock_leaked_units: int
    double_charges: int
    charged_not_fulfilled_or_refunded: int
    refunds_without_charge: int
    shipped_unpaid: int
    duplicate_mails_same_message_id: int
    duplicate_mails_other_message_id: int
    missing_mails: dict[str, int]
    deliveries_lost: int
    dead_letters: int
    follow_ups_given_up: int
    same_message_id_allowed: int
    recovery_seconds: float | None
    unsettled: tuple[str, ...]
    crashed_processes: dict[str, int]
    # Order events the shop's endpoint never acknowledged; events it got after a later one.
    webhook_events_lost: int
    webhooks_out_of_order: int
    # The check (a field of this card) each broken promise belongs to, and what broke.
    violations: dict[str, str]


def judge(facts: Facts) -> Scorecard:
    """The scorecard of a run."""
    statuses = {order.order_id: order.status for order in facts.orders}
    answered = set().union(*(use.answered for use in facts.keys))
    missing = answered - statuses.keys()
    by_status = Counter(statuses.values())
    if missing:
        by_status["missing from the database"] = len(missing)
    same, other = duplicate_mails(facts.mails)
    money = money_counts(facts)
    card = Scorecard(
        seed=facts.seed,
        accepted=len(statuses) + len(missing),
        by_status=dict(sorted(by_status.items())),
        lost=len(missing) + sum(status not in FINAL for status in statuses.values()),
        keys_with_two_orders=keys_with_two_orders(facts),
        oversold_units=oversold_units(facts),
        stock_leaked_units=stock_leaked_units(facts),
        double_charges=money["double"],
        charged_not_fulfilled_or_refunded=money["unresolved"],
        refunds_without_charge=money["refund_without_charge"],
        shipped_unpaid=money["shipped_unpaid"],
        duplicate_mails_same_message_id=same,
        duplicate_mails_other_message_id=other,
        missing_mails=missing_mails(facts),
        deliveries_lost=sum(statuses.get(o) != "delivered" for o in facts.delivered_by_carrier),
        dead_letters=facts.dead_letters,
        follow_ups_given_up=facts.follow_ups_given_up,
        same_message_id_allowed=facts.mail_senders_killed + SAME_MESSAGE_ID_DUPLICATE_ALLOWANCE,
        recovery_seconds=facts.recovery_seconds,
        unsettled=facts.unsettled,
        crashed_processes=dict(sorted(Counter(facts.crashes).items())),
        webhook_events_lost=hook_counts.events_lost(facts.webhooks_owed, facts.webhook_acks),
        webhooks_out_of_order=hook_counts.out_of_order(facts.webhook_acks),
        violations={},
    )
    return _with_violations(card)


def keys_with_two_orders(facts: Facts) -> int:
    """Keys that made more than one order: answered with two ids, or two rows with its address."""
    by_email: dict[str, set[str]] = defaultdict(set)
    for order in facts.orders:
        by_email[order.email].add(order.order_id)
    return sum(len(use.answered | by_email.get(use.email, set())) > 1 for use in facts.keys)


def _per_article(pairs: Iterable[tuple[str, int]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for article, units in pairs:
        total[article] += units
    return total


def _units(facts: Facts, statuses: frozenset[str]) -> Counter[str]:
    """Units per article of the orders in `statuses`."""
    chosen = {order.order_id for order in facts.orders if order.status in statuses}
    return _per_article(
        (line.article, line.quantity) for line in facts.lines if line.order_id in chosen
    )


def _shipped(facts: Facts) -> Counter[str]:
    return _units(facts, OFF_THE_SHELF)


def oversold_units(facts: Facts) -> int:
    """Units promised or shipped that no shelf held: bad stock rows, and shipments past receipts."""
    bad_rows = sum(
        max(0, -row.on_hand) + max(0, -row.reserved) + max(0, row.reserved - max(0, row.on_hand))
        for row in facts.stock
    )
    received = _per_article((article, units) for (_, article), units in facts.seeded.items())
    shipped = _shipped(facts)
    return bad_rows + sum(max(0, units - received[article]) for article, units in shipped.items())


def stock_leaked_units(facts: Facts) -> int:
    """Units off the shelf that no shipment or collection took, or still held once every order
    is final beyond what pickup orders waiting at their warehouse hold."""
    received = _per_article((article, units) for (_, article), units in facts.seeded.items())
    on_hand = _per_article((row.article, row.on_hand) for row in facts.stock)
    shipped = _shipped(facts)
    drift = sum(
        abs(received[a] - on_hand[a] - shipped[a]) for a in received.keys() | on_hand.keys()
    )
    at_rest = all(order.status in FINAL for order in facts.orders)
    reserved = _per_article((row.article, max(0, row.reserved)) for row in facts.stock)
    waiting = _units(facts, frozenset({WAITING_FOR_PICKUP}))
    held = sum(abs(reserved[a] - waiting[a]) for a in reserved.keys() | waiting.keys())
    return drift + (held if at_rest else 0)


# (the check, a truthy value when its promise is broken, the violation in words)
Check = tuple[str, object, str]


def _with_violations(card: Scorecard) -> Scorecard:
    """The card with each broken promise named under its check, in the order they are listed."""
    checks = [
        *_order_and_money_checks(card),
        *_mail_checks(card),
        *_rest_checks(card),
        *_webhook_checks(card),
    ]
    violations = {check: text for check, broken, text in checks if broken}
    return replace(card, violations=violations)


def _order_and_money_checks(card: Scorecard) -> list[Check]:
    """Orders lost or made twice, stock oversold or leaked, money taken or returned wrongly."""
    return [
        ("lost", card.lost, f"{card.lost} accepted orders never reached a final status"),
        (
            "keys_with_two_orders",
            card.keys_with_two_orders,
            f"{card.keys_with_two_orders} Idempotency-Keys made two orders",
        ),
        ("oversold_units", card.oversold_units, f"{card.oversold_units} units oversold"),
        (
            "stock_leaked_units",
            card.stock_leaked_units,
            f"{card.stock_leaked_units} units of stock leaked",
        ),
        (
            "double_charges",
            card.double_charges,
            f"{card.double_charges} orders charged twice or over their total",
        ),
        (
            "charged_not_fulfilled_or_refunded",
            card.charged_not_fulfilled_or_refunded,
            f"{card.charged_not_fulfilled_or_refunded} charges neither fulfilled nor refunded",
        ),
        (
            "refunds_without_charge",
            card.refunds_without_charge,
            f"{card.refunds_without_charge} refunds without a charge",
        ),
        ("shipped_unpaid", card.shipped_unpaid, f"{card.shipped_unpaid} orders shipped unpaid"),
    ]


def _mail_checks(card: Scorecard) -> list[Check]:
    """Customer mails sent twice beyond the allowance, or never sent."""
    same_allowed = card.same_message_id_allowed
    return [
        (
            "duplicate_mails_other_message_id",
            card.duplicate_mails_other_message_id,
            f"{card.duplicate_mails_other_message_id} duplicate mails with another Message-ID",
        ),
        (
            "duplicate_mails_same_message_id",
            card.duplicate_mails_same_message_id > same_allowed,
            f"{card.duplicate_mails_same_message_id} duplicate mails with the same Message-ID"
            f" (allowed: {same_allowed})",
        ),
        (
            "missing_mails",
            sum(card.missing_mails.values()),
            f"missing mails: {_listed(card.missing_mails)}",
        ),
    ]


def _rest_checks(card: Scorecard) -> list[Check]:
    """Work left undone at the end: deliveries, dead letters, follow-ups, recovery, crashes."""
    recovery = card.recovery_seconds
    return [
        (
            "deliveries_lost",
            card.deliveries_lost,
            f"{card.deliveries_lost} orders whose every parcel was delivered are not delivered",
        ),
        (
            "dead_letters",
            card.dead_letters,
            f"{card.dead_letters} messages in the dead-letter queue",
        ),
        (
            "follow_ups_given_up",
            card.follow_ups_given_up,
            f"{card.follow_ups_given_up} follow-ups given up for good",
        ),
        (
            "recovery_seconds",
            recovery is None,
            f"not at rest by the deadline: {'; '.join(card.unsettled)}",
        ),
        (
            "recovery_seconds",
            recovery is not None and recovery > RECOVERY_LIMIT_SECONDS,
            f"recovery took {recovery or 0.0:.1f} s (limit {RECOVERY_LIMIT_SECONDS:.0f} s)",
        ),
        (
            "crashed_processes",
            card.crashed_processes,
            f"crashed processes: {_listed(card.crashed_processes)}",
        ),
    ]


def _webhook_checks(card: Scorecard) -> list[Check]:
    """Order events the shop never heard of, or heard of out of order."""
    lost, late = card.webhook_events_lost, card.webhooks_out_of_order
    return [
        ("webhook_events_lost", lost, f"{lost} order events never acknowledged by the shop"),
        ("webhooks_out_of_order", late, f"{late} webhook events delivered out of order"),
    ]


def _listed(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count)
