"""Mails about one part of an order that ships in parts: 'shipped#2' is part 2's."""

from __future__ import annotations

from models.domain.mail import base_kind, instance_of

# Kinds whose instance is a part of a partially shipped order ("shipped#2"): their mail shows
# that part's payment, parcels and lines.
PART_KINDS = frozenset({"paid", "shipped", "partially_shipped", "part_payment_failed", "refunded"})


def part_of(kind: str) -> int | None:
    """The part of the order a mail is about ('shipped#2' -> 2); None for the whole order."""
    instance = instance_of(kind)
    if base_kind(kind) in PART_KINDS and instance is not None and instance.isdigit():
        return int(instance)
    return None
