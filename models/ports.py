"""The ports: what the services need from the outside world, as Protocols and plain data.

Each outside system (the payment gateway, the mail server, a carrier, the orders queue, the
broker) has an adapter in workers/adapters/ that implements its port here, and a fake
(workers/adapters/fakes.py). Services import only this module, never an adapter, so the
import graph runs one way: adapters and entry points -> services -> store -> domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any, Literal, Protocol

from models.domain.follow_ups import FollowUp
from models.domain.mail import EmailView, Mail

# Payments


@dataclass(frozen=True)
class ChargeResult:
    """How a charge stands: money taken, money authorised and waiting to be captured, a
    decline retrying will not change, or not yet known.

    `pending` is an intent still `processing`, or waiting on the customer (`requires_action`):
    neither is a decline, and neither has taken money yet. `authorized` is an intent created
    with manual capture that the card accepted (`requires_capture`): the money is held on the
    card until `capture_before`, and taken only by a capture.
    """

    status: Literal["succeeded", "authorized", "declined", "pending"]
    gateway_id: str | None
    failure_code: str | None = None
    failure_message: str | None = None
    capture_before: datetime | None = None


# PaymentIntent statuses that may still turn into money: ask again later, never call a decline.
UNSETTLED = frozenset({"processing", "requires_action", "requires_confirmation"})
# The failure code of a capture refused because the authorisation lapsed (Stripe cancels an
# uncaptured intent with cancellation_reason `automatic` when its authorisation expires).
AUTHORIZATION_EXPIRED = "authorization_expired"
# The failure code of a capture refused because the intent was cancelled (voided).
CANCELED = "canceled"

CaptureMethod = Literal["automatic", "manual"]


class PaymentUnavailable(Exception):
    """Transient (timeout, connection, 5xx, 409 key in use, rate limit): retry with the same key."""


class PaymentRejected(Exception):
    """Permanent: the gateway refused the request itself (bad parameters, key reuse, auth)."""


class PaymentGateway(Protocol):
    """Something that takes and returns money, idempotently by key."""

    @property
    def longest_call_seconds(self) -> float:
        """How long after it was sent a charge may still land: one call, its retries included,
        and a little for the gateway to finish what it was answering when we stopped waiting."""

    def charge(
        self,
        *,
        idempotency_key: str,
        amount: int,
        currency: str,
        payment_method: str,
        order_id: str,
        capture: CaptureMethod = "automatic",
    ) -> ChargeResult:
        """Charge `amount` minor units once per key, however often this is called; with
        `capture="manual"` only authorise it (an `authorized` result), to be captured later."""

    def capture(
        self, *, idempotency_key: str, payment_intent_id: str, amount: int, order_id: str
    ) -> ChargeResult:
        """Capture `amount` of an authorised intent once per key; the rest of the authorisation
        is released. `succeeded` once captured (a repeat answers the same); `declined` with
        AUTHORIZATION_EXPIRED or CANCELED when there is no authorisation left to capture."""

    def refund(
        self,
        *,
        idempotency_key: str,
        payment_intent_id: str,
        amount: int | None = None,
        order_id: str | None = None,
    ) -> str:
        """Refund all or `amount` of a charge once per key; returns the refund id."""

    def find_charge(self, *, order_id: str) -> ChargeResult | None:
        """What became of the order's charges: a success, else an authorisation, else one
        still pending, else the newest decline, else None."""

    def cancel(self, *, payment_intent_id: str, order_id: str) -> ChargeResult:
        """Cancel an intent that has not taken money (voiding an authorisation releases the
        money it held); a success answers as the success it is."""


# Mail


class MailTransient(Exception):
    """The server could not take the message now; a later attempt may succeed."""


class MailRejected(Exception):
    """The server refused the message for good; retrying cannot help."""


class Mailer(Protocol):
    """Something that delivers a finished message."""

    def send(self, message: EmailMessage) -> None:
        """Deliver the message or raise MailTransient / MailRejected."""


class MailRenderer(Protocol):
    """Turns what an order email shows into its subject, text and HTML."""

    def render(self, view: EmailView, kind: str) -> Mail:
        """The `kind` email for the view."""


@dataclass(frozen=True)
class Post:
    """How an order email is made and sent: the renderer, then the mailer."""

    mailer: Mailer
    renderer: MailRenderer


# Carriers


class RouteNotServed(ValueError):
    """No carrier takes parcels between these two countries; retrying will not change that."""


@dataclass(frozen=True)
class Label:
    """What a carrier gives back for a parcel."""

    carrier: str
    tracking_number: str
    tracking_url: str


class Carrier(Protocol):
    """Something that books a parcel and returns its label."""

    def create_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """Book a parcel from the warehouse for the order."""

    def create_return_label(self, *, order_id: str, warehouse_code: str) -> Label:
        """Book a parcel from the customer back to the warehouse: a label of its own, with its
        own tracking number."""


# The orders queue


@dataclass(frozen=True)
class Received:
    """A message taken from the queue, invisible to others until deleted or timed out."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int


class MessageQueue(Protocol):
    """The orders queue and its dead-letter queue."""

    def publish(self, document: dict[str, Any]) -> str:
        """Send one document; the message id."""

    def publish_batch(self, documents: Sequence[dict[str, Any]]) -> list[str | None]:
        """Send up to ten documents in one call; each one's message id, None where refused."""

    def receive(self, *, wait_seconds: int, visibility_timeout: int) -> list[Received]:
        """Up to ten messages, long-polling up to `wait_seconds`."""

    def delete(self, messages: list[Received]) -> list[str]:
        """Delete messages; the ids that could not be deleted."""

    def dead_letter(self, message: Received, reason: str) -> None:
        """Move a message that can never be processed to the dead-letter queue, saying why."""

    def depth(self, which: str = "main") -> int:
        """Approximate number of visible messages in the main queue or the dead-letter queue."""


@dataclass(frozen=True)
class DeadLetter:
    """A message held from the dead-letter queue: what it says, and why it is there."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    # What the dispatcher recorded; empty when SQS moved it after too many receives.
    reason: str
    attributes: dict[str, str]
    sent_at: str


class DeadLetters(Protocol):
    """The dead-letter queue, read without consuming it: what is held is handed back."""

    def hold_dead_letters(self, *, hold_seconds: int) -> list[DeadLetter]:
        """Every message in the dead-letter queue, hidden from others for `hold_seconds`."""

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make held messages visible in the dead-letter queue again, at once."""

    def send_back(self, letter: DeadLetter) -> str:
        """Send a dead letter's body to the orders queue; the new message id."""

    def drop(self, letter: DeadLetter) -> None:
        """Delete a held message from the dead-letter queue."""


class QueueControl(Protocol):
    """The workers' consumers of the step queues, switched by hand."""

    def stop_consuming(self, queue: str) -> list[str]:
        """Tell every worker consuming `queue` to stop (its tasks wait); the workers told."""

    def start_consuming(self, queue: str, workers: Sequence[str]) -> list[str]:
        """Tell `workers` to consume `queue` again; the workers that answered."""


# Follow-ups


class Publisher(Protocol):
    """Sends follow-ups on their way: tasks to the broker, messages to SQS."""

    @property
    def topics(self) -> frozenset[str]:
        """The kinds of follow-up this publisher can send."""

    def publish(self, follow_ups: Sequence[FollowUp]) -> None:
        """Send each follow-up; one that cannot be sent is left to the relay, never raised."""
