"""Returns as rules: the reasons a customer gives, where returned units go, the RMA number,
and what a receipt makes of a return. No I/O."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Why the customer sends units back. A damaged or defective unit is held apart (quarantined)
# until someone looks at it; any other comes back onto the shelf.
QUARANTINE_REASONS = frozenset({"damaged", "defective"})
REASONS = ("damaged", "defective", "wrong_item", "not_as_described", "no_longer_needed", "other")
MAX_NOTE = 500

# Crockford's base32: no I, L, O or U, so a number read out over the phone is not misheard.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RMA_PREFIX = "RMA-"
RMA_LENGTH = 8
RMA_PATTERN = rf"^{RMA_PREFIX}[{CROCKFORD}]{{{RMA_LENGTH}}}$"


def disposition_of(reason: str) -> str:
    """Where the accepted units of a return given for `reason` go: quarantine or restock."""
    return "quarantine" if reason in QUARANTINE_REASONS else "restock"


def rma_number(draw: int | None = None) -> str:
    """A new RMA number: `RMA-` and 8 Crockford base32 characters of a random 40-bit draw."""
    value = secrets.randbits(5 * RMA_LENGTH) if draw is None else draw
    chars = []
    for _ in range(RMA_LENGTH):
        value, digit = divmod(value, 32)
        chars.append(CROCKFORD[digit])
    return RMA_PREFIX + "".join(reversed(chars))


def normalize_rma(text: str) -> str:
    """An RMA number as typed by a person: upper case, O read as 0, I and L as 1."""
    return text.strip().upper().translate(str.maketrans("OIL", "011"))


@dataclass(frozen=True)
class Counted:
    """Units of one return line: asked for, received, accepted."""

    asked: int
    received: int
    accepted: int


def receipt_status(lines: Iterable[Counted]) -> str:
    """What a receipt makes of a return: received (every unit back and accepted), refused
    (nothing accepted), or partially_received."""
    counted = list(lines)
    if sum(line.accepted for line in counted) == 0:
        return "refused"
    if all(line.received == line.asked == line.accepted for line in counted):
        return "received"
    return "partially_received"


def receipt_error(asked: int, received: int, accepted: int) -> str | None:
    """Why the counts of a received line cannot be, or None."""
    if received < 0 or accepted < 0:
        return "must not be negative"
    if received > asked:
        return f"received more than the {asked} asked for"
    if accepted > received:
        return f"accepted more than the {received} received"
    return None


@dataclass(frozen=True)
class Arrival:
    """Units of an order line that reached the customer from one warehouse, and when (None if
    they are still on their way)."""

    order_line_id: int
    warehouse_id: int
    quantity: int
    arrived_at: datetime | None


def returnable(arrivals: Iterable[Arrival], claimed: int, cutoff: datetime) -> int:
    """Units of one line that may still be returned.

    Units that arrived, less those `claimed` by other returns (every unit of an open return,
    the accepted units of one received), and no more than arrived at or after `cutoff` (the
    start of the return window).
    """
    arrived = in_window = 0
    for arrival in arrivals:
        if arrival.arrived_at is None:
            continue
        arrived += arrival.quantity
        if arrival.arrived_at >= cutoff:
            in_window += arrival.quantity
    return max(0, min(in_window, arrived - claimed))
