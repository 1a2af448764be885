"""What a run observed at its end: rows read from outside the system, in plain dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tests.chaos.hook_counts import HookAck


@dataclass(frozen=True)
class OrderRow:
    """An order as the database has it."""

    order_id: str
    status: str
    total: int
    email: str
    # What the order is owed for: its total less the lines cancelled before they shipped (a
    # later part of a partially shipped order that could not be paid for, say).
    due: int | None = None

    @property
    def owed(self) -> int:
        """What the order's charges, less refunds, should come to once it is fulfilled."""
        return self.total if self.due is None else self.due


@dataclass(frozen=True)
class LineRow:
    """Units of one article in one order."""

    order_id: str
    article: str
    quantity: int


@dataclass(frozen=True)
class StockRow:
    """One product in one warehouse now."""

    warehouse: str
    article: str
    on_hand: int
    reserved: int


@dataclass(frozen=True)
class Charge:
    """One succeeded charge in the gateway's ledger, and how much of it went back."""

    order_id: str
    amount: int
    refunded: int
    # Which part of the order it paid for: a partially shipped order has a charge per part.
    part: int = 1


@dataclass(frozen=True)
class MailRow:
    """One received mail about an order."""

    order_id: str
    kind: str
    message_id: str


@dataclass(frozen=True)
class KeyUse:
    """One Idempotency-Key: the address only its order carries, and the orders answers named."""

    key: str
    email: str
    answered: frozenset[str]


@dataclass(frozen=True)
class Facts:
    """Everything observed once the run was over."""

    seed: int
    orders: tuple[OrderRow, ...]
    lines: tuple[LineRow, ...]
    stock: tuple[StockRow, ...]
    seeded: Mapping[tuple[str, str], int]
    charges: tuple[Charge, ...]
    mails: tuple[MailRow, ...]
    keys: tuple[KeyUse, ...]
    delivered_by_carrier: frozenset[str] = frozenset()
    refunded_in_db: frozenset[str] = frozenset()
    dead_letters: int = 0
    follow_ups_given_up: int = 0
    # Processes killed while they may have been sending a mail (one pool child each).
    mail_senders_killed: int = 0
    recovery_seconds: float | None = 0.0
    unsettled: tuple[str, ...] = ()
    crashes: tuple[str, ...] = ()
    # (order, timeline kind) of each order event the shop subscribed to, from the database;
    # the events its endpoint answered 200, in the order it answered them.
    webhooks_owed: tuple[tuple[str, str], ...] = ()
    webhook_acks: tuple[HookAck, ...] = ()
