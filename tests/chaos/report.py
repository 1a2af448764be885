"""The scorecard as a table for people and as JSON for machines."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.chaos.scorecard import Scorecard


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items() if count) or "0"


# (what, figure, the check whose violation it shows, or None for a plain figure)
Figure = tuple[str, str, str | None]


def rows(card: Scorecard) -> list[tuple[str, str, str]]:
    """(what, figure, verdict) per line; the verdict names each broken promise."""
    totals: list[Figure] = [
        ("seed", str(card.seed), None),
        ("orders accepted", str(card.accepted), None),
        ("  by final status", _counts(card.by_status), None),
    ]
    figures = [*totals, *_order_and_money_figures(card), *_mail_and_rest_figures(card)]
    return [
        (what, figure, "" if check is None else ("VIOLATION" if check in card.violations else "ok"))
        for what, figure, check in figures
    ]


def _order_and_money_figures(card: Scorecard) -> list[Figure]:
    """The promises about orders, stock and money."""
    return [
        ("lost (accepted, never final)", str(card.lost), "lost"),
        (
            "idempotency keys that made two orders",
            str(card.keys_with_two_orders),
            "keys_with_two_orders",
        ),
        ("units oversold", str(card.oversold_units), "oversold_units"),
        ("units of stock leaked", str(card.stock_leaked_units), "stock_leaked_units"),
        ("double charges", str(card.double_charges), "double_charges"),
        (
            "charged, neither fulfilled nor refunded",
            str(card.charged_not_fulfilled_or_refunded),
            "charged_not_fulfilled_or_refunded",
        ),
        ("refunds without a charge", str(card.refunds_without_charge), "refunds_without_charge"),
        ("shipped without being paid", str(card.shipped_unpaid), "shipped_unpaid"),
    ]


def _mail_and_rest_figures(card: Scorecard) -> list[Figure]:
    """The promises about mails, deliveries, and the system coming back to rest."""
    recovery = "-" if card.recovery_seconds is None else f"{card.recovery_seconds:.1f} s"
    return [
        (
            f"duplicate mails, same Message-ID (allowed {card.same_message_id_allowed})",
            str(card.duplicate_mails_same_message_id),
            "duplicate_mails_same_message_id",
        ),
        (
            "duplicate mails, other Message-ID",
            str(card.duplicate_mails_other_message_id),
            "duplicate_mails_other_message_id",
        ),
        ("missing mails", _counts(card.missing_mails), "missing_mails"),
        ("every parcel delivered, order not", str(card.deliveries_lost), "deliveries_lost"),
        ("dead letters", str(card.dead_letters), "dead_letters"),
        ("follow-ups given up", str(card.follow_ups_given_up), "follow_ups_given_up"),
        ("recovery time (limit 60 s)", recovery, "recovery_seconds"),
        ("crashed processes", _counts(card.crashed_processes), "crashed_processes"),
        ("webhook events lost", str(card.webhook_events_lost), "webhook_events_lost"),
        ("delivered out of order", str(card.webhooks_out_of_order), "webhooks_out_of_order"),
    ]


def table(card: Scorecard) -> str:
    """The scorecard as a plain-text table, then each violation in words."""
    lines = rows(card)
    width = max(len(what) for what, _, _ in lines)
    figure_width = min(60, max(len(figure) for _, figure, _ in lines))
    text = [
        f"{what.ljust(width)}  {figure.ljust(figure_width)}  {verdict}"
        for what, figure, verdict in lines
    ]
    rule = "-" * len(max(text, key=len))
    text = ["chaos scorecard", rule, *text, rule]
    if card.violations:
        text += [f"{len(card.violations)} violations:"]
        text += [f"  - {violation}" for violation in card.violations.values()]
    else:
        text += ["no violations"]
    return "\n".join(text)


def traffic(details: Mapping[str, Any]) -> str:
    """What the clients and the faults did, so a reader can tell what the run exercised."""
    follow_ups = Counter[str]()
    for outcome, count in details.get("follow_ups", {}).items():
        # "cancel_soon: cancelled (202)" counts under "cancel_soon: cancelled".
        follow_ups[outcome.split(" (")[0]] += count
    lines = [
        f"intake answers (HTTP status: count): {details.get('intake_answers')},"
        f" orders never accepted: {details.get('not_accepted')}",
        f"admin cancels: {details.get('cancel_answers')},"
        f" carrier webhooks: {details.get('webhook_answers')}",
        *(f"  {outcome}: {count}" for outcome, count in sorted(follow_ups.items())),
        f"fault events: {len(details.get('faults', []))},"
        f" mails about orders received: {details.get('mails_about_orders')},"
        f" charges in the ledger: {details.get('ledger_charges')}",
        "tasks still held unacknowledged on the broker:"
        f" {details.get('tasks_unacknowledged_at_end')}",
        f"shop webhooks: receiver answers {details.get('webhook_receiver_answers')},"
        f" duplicates delivered {details.get('webhook_duplicates')},"
        f" deliveries by status {details.get('webhook_deliveries')},"
        f" lost by kind {details.get('webhook_lost_by_kind')}",
    ]
    return "\n".join(lines)


def write_json(path: Path, card: Scorecard, details: Mapping[str, Any]) -> None:
    """The scorecard and the run's details as one JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"scorecard": dataclasses.asdict(card), **details}
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
