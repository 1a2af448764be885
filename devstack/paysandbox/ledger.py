"""The sandbox's state without HTTP: intents, the ledger, idempotency keys and faults."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, replace

from devstack.paysandbox.captures import AUTHORIZATION_SECONDS, Holds, capture_method_param
from devstack.paysandbox.cards import DECLINES, KNOWN, PENDING, PROCESSING_SECONDS
from devstack.paysandbox.shapes import (
    ApiError,
    Json,
    currency_param,
    decline,
    invalid,
    new_intent,
    new_refund,
    positive_param,
)

# The app and the package import these from here, as they did before shapes.py was split off.
__all__ = ["ApiError", "Faults", "Json", "LedgerEntry", "Sandbox", "Stored", "invalid"]

CANCELABLE = frozenset(
    {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
        "requires_capture",
    }
)

# The one clause of Stripe's search query language the sandbox knows: metadata['key']:'value',
# either quote, a backslash escaping the next character.
METADATA_CLAUSE = re.compile(
    r"""\s*metadata\[(?P<kq>['"])(?P<key>[^'"]+)(?P=kq)\]"""
    r"""\s*:\s*(?P<vq>['"])(?P<value>(?:\\.|(?!(?P=vq))[^\\])*)(?P=vq)\s*"""
)
SEARCH_URL = "/v1/payment_intents/search"


@dataclass
class Faults:
    """What goes wrong on purpose; changeable at runtime."""

    latency: float = 0.0
    failure_rate: float = 0.0
    timeout_after_charge_rate: float = 0.0
    stall_seconds: float = 30.0
    # How long a manual-capture authorisation holds before the intent is cancelled.
    authorization_seconds: float = AUTHORIZATION_SECONDS


@dataclass
class Stored:
    """What an idempotency key was first used for, and its answer (status 0 while running)."""

    fingerprint: str
    status: int = 0
    body: str = ""


@dataclass
class LedgerEntry:
    """One charge's money taken (a capture's: the amount captured), and what was refunded."""

    payment_intent: str
    charge: str
    amount: int
    currency: str
    idempotency_key: str | None
    metadata: Json
    refunded: int = 0
    refunds: list[Json] = field(default_factory=list)


class Sandbox:
    """All sandbox state, behind one lock because the server answers on many threads."""

    def __init__(self, faults: Faults, seed: int | None) -> None:
        self.lock = threading.Lock()
        self.faults = faults
        self.random = random.Random(seed)
        self.reset()

    def reset(self) -> None:
        """Forget every intent, charge, key and logged request."""
        with self.lock:
            self.intents: dict[str, Json] = {}
            self.ledger: list[LedgerEntry] = []
            self.keys: dict[tuple[str, str], Stored] = {}
            self.requests: deque[Json] = deque(maxlen=10_000)
            # When each processing intent succeeds, by intent id.
            self.settles_at: dict[str, float] = {}
            self.creating_keys: dict[str, str | None] = {}
            self.holds = Holds()

    def ledger_view(self) -> list[Json]:
        """Every charge with its refunds, as JSON-ready dictionaries."""
        with self.lock:
            self._catch_up()
            return [asdict(entry) for entry in self.ledger]

    def intents_view(self) -> list[Json]:
        """Every intent, oldest first, its latest charge expanded."""
        with self.lock:
            self._catch_up()
            expand = {"expand": {"0": "latest_charge"}}
            return [self.holds.shown(intent, expand) for intent in self.intents.values()]

    def requests_view(self) -> list[Json]:
        """The API requests seen, oldest first."""
        with self.lock:
            return [dict(entry) for entry in self.requests]

    def roll(self, rate: float) -> bool:
        """Whether a fault with this rate strikes now (seeded, so runs repeat)."""
        with self.lock:
            return self.random.random() < rate

    def claim(self, scope: tuple[str, str], fingerprint: str) -> Stored | None:
        """Claim a key for a new request, or a snapshot of what already holds it."""
        with self.lock:
            if scope not in self.keys:
                self.keys[scope] = Stored(fingerprint)
                return None
            return replace(self.keys[scope])

    def settle(self, scope: tuple[str, str], status: int | None, body: str = "") -> None:
        """Store the answer under the key, or free the key when `status` is None."""
        with self.lock:
            if status is None:
                self.keys.pop(scope, None)
            else:
                self.keys[scope] = replace(self.keys[scope], status=status, body=body)

    def create_intent(self, params: Json, key: str | None) -> tuple[int, Json]:
        """POST /v1/payment_intents: create, and with confirm=true charge at once."""
        amount, currency = (
            positive_param(params, "amount", required=True) or 0,
            currency_param(params),
        )
        method, confirm = params.get("payment_method"), params.get("confirm") == "true"
        if method is not None and method not in KNOWN:
            raise invalid(
                f"No such PaymentMethod: '{method}'", "payment_method", "resource_missing"
            )
        if confirm and method is None:
            raise invalid("You must provide a payment_method to confirm.", "payment_method")
        metadata, capture = params.get("metadata") or {}, capture_method_param(params)
        intent = new_intent(amount, currency, method, metadata, capture)
        with self.lock:
            self.intents[intent["id"]] = intent
            self.creating_keys[intent["id"]] = key
            if confirm and method in DECLINES:
                return 402, decline(intent, *DECLINES[method])
            if confirm and method in PENDING:
                intent.update(status=PENDING[method])
                if intent["status"] == "processing":
                    self.settles_at[intent["id"]] = time.monotonic() + PROCESSING_SECONDS
            elif confirm:
                self._succeed(intent, key)
            return 200, self.holds.shown(intent, params)

    def _succeed(self, intent: Json, key: str | None) -> None:
        """The card accepted: with manual capture the amount is only held; otherwise the
        intent succeeds and the ledger records the money taken (lock held)."""
        if intent["capture_method"] == "manual":
            self.holds.authorize(intent, self.faults.authorization_seconds)
            return
        charge = self.holds.take(intent)
        self._record(intent, charge, intent["amount"], key)

    def _record(self, intent: Json, charge: str, amount: int, key: str | None) -> None:
        entry = LedgerEntry(
            intent["id"], charge, amount, intent["currency"], key, intent["metadata"]
        )
        self.ledger.append(entry)

    def _catch_up(self) -> None:
        """What time has done since (lock held): processing intents whose time has come
        settle, then authorisations past their capture_before are cancelled."""
        now = time.monotonic()
        for intent_id, at in list(self.settles_at.items()):
            if at <= now:
                del self.settles_at[intent_id]
                intent = self.intents[intent_id]
                if intent["status"] == "processing":
                    self._succeed(intent, self.creating_keys.get(intent_id))
        self.holds.lapse(self.intents)

    def capture_intent(self, intent_id: str, params: Json, key: str | None) -> tuple[int, Json]:
        """POST /v1/payment_intents/<id>/capture: take all or part of an authorisation."""
        with self.lock:
            self._catch_up()
            intent = self._intent(intent_id)
            amount = self.holds.capture(intent, params)
            self._record(intent, intent["latest_charge"], amount, key)
            return 200, self.holds.shown(intent, params)

    def _intent(self, intent_id: str) -> Json:
        """The intent by id, or Stripe's 404 (lock held)."""
        intent = self.intents.get(intent_id)
        if intent is None:
            message = f"No such payment_intent: '{intent_id}'"
            raise invalid(message, "id", "resource_missing", 404)
        return intent

    def cancel_intent(self, intent_id: str, params: Json) -> tuple[int, Json]:
        """POST /v1/payment_intents/<id>/cancel: only an intent that took no money; voiding
        an authorisation releases what it held."""
        with self.lock:
            self._catch_up()
            intent = self._intent(intent_id)
            if intent["status"] not in CANCELABLE:
                message = (
                    "You cannot cancel this PaymentIntent because it has a status of "
                    f"{intent['status']}."
                )
                raise invalid(message, code="payment_intent_unexpected_state")
            self.settles_at.pop(intent_id, None)
            self.holds.release(intent, "requested_by_customer")
            return 200, self.holds.shown(intent, params)

    def get_intent(self, intent_id: str, params: Json) -> Json:
        """GET /v1/payment_intents/<id>."""
        with self.lock:
            self._catch_up()
            return self.holds.shown(self._intent(intent_id), params)

    def search_intents(self, query: str | None, params: Json) -> Json:
        """GET /v1/payment_intents/search: intents whose metadata matches, newest first."""
        if not query:
            raise invalid("Missing required param: query.", "query", "parameter_missing")
        clause = METADATA_CLAUSE.fullmatch(query)
        if clause is None:
            supported = "The sandbox searches only metadata['key']:'value'."
            raise invalid(f"Unsupported search query: {query}. {supported}", "query")
        key, value = clause["key"], re.sub(r"\\(.)", r"\1", clause["value"])
        with self.lock:
            self._catch_up()
            # Declined intents are kept too, so a caller can tell a decline from a lost request.
            found = [
                self.holds.shown(intent, params, "data.")
                for intent in reversed(self.intents.values())
                if isinstance(intent["metadata"], dict) and intent["metadata"].get(key) == value
            ]
        fixed = {"object": "search_result", "url": SEARCH_URL, "has_more": False}
        return {**fixed, "data": found, "next_page": None}

    def create_refund(self, params: Json, key: str | None) -> tuple[int, Json]:
        """POST /v1/refunds: return all or part of a payment intent's charge."""
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise invalid("Missing required param: payment_intent.", "payment_intent")
        amount = positive_param(params, "amount", required=False)
        with self.lock:
            entry = next((e for e in self.ledger if e.payment_intent == intent_id), None)
            if entry is None:
                message = f"No successful charge to refund on payment_intent '{intent_id}'."
                raise invalid(message, "payment_intent", "resource_missing")
            remaining = entry.amount - entry.refunded
            if remaining == 0:
                message = f"Charge {entry.charge} has already been refunded."
                raise invalid(message, code="charge_already_refunded")
            if amount is not None and amount > remaining:
                message = (
                    f"Refund amount ({amount}) is greater than unrefunded amount ({remaining})."
                )
                raise invalid(message, "amount", "amount_too_large")
            metadata = params.get("metadata") or {}
            refund = new_refund(
                entry.payment_intent, entry.charge, entry.currency, amount or remaining, metadata
            )
            entry.refunded += refund["amount"]
            entry.refunds.append(
                {"id": refund["id"], "amount": refund["amount"], "idempotency_key": key}
            )
            return 200, refund
