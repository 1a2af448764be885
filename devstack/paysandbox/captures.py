"""Authorise-then-capture as Stripe does it: every charge, the holds on the card, their
deadlines, captures and voids. An authorisation is not money taken: only a capture (or an
automatic charge) goes into the ledger, and only for the amount captured."""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import dataclass, field

from devstack.paysandbox.shapes import Json, invalid, positive_param

# How long a card holds an authorisation before Stripe cancels the intent: 7 days.
AUTHORIZATION_SECONDS = 7 * 24 * 3600.0
CAPTURE_METHODS = frozenset({"automatic", "automatic_async", "manual"})
NOT_CAPTURABLE = (
    "This PaymentIntent could not be captured because it has a status of {}. Only a"
    " PaymentIntent with one of the following statuses may be captured: requires_capture."
)
TOO_LARGE = "The amount to capture ({}) is greater than the amount capturable ({})."


def capture_method_param(params: Json) -> str:
    """The intent's capture_method: `automatic` unless the caller asks for `manual`."""
    method = params.get("capture_method") or "automatic"
    if method not in CAPTURE_METHODS:
        raise invalid(f"Invalid capture_method: {method}", "capture_method")
    return "automatic" if method == "automatic_async" else str(method)


def new_charge(intent: Json, *, captured: bool, capture_before: int | None) -> Json:
    """The charge of an intent: captured at once, or authorised until `capture_before`."""
    card = {"capture_before": capture_before}
    return {
        "id": f"ch_{secrets.token_hex(12)}",
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"] if captured else 0,
        "captured": captured,
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "payment_method_details": {"type": "card", "card": card},
    }


@dataclass
class Holds:
    """Every charge by id, and when each authorisation still waiting for capture lapses."""

    charges: dict[str, Json] = field(default_factory=dict)
    # Wall-clock seconds at which each requires_capture intent is cancelled, by intent id.
    lapses_at: dict[str, float] = field(default_factory=dict)

    def take(self, intent: Json) -> str:
        """Capture at once: the intent succeeds with the whole amount; the charge's id."""
        charge = new_charge(intent, captured=True, capture_before=None)
        self.charges[charge["id"]] = charge
        intent.update(
            status="succeeded", amount_received=intent["amount"], latest_charge=charge["id"]
        )
        return str(charge["id"])

    def authorize(self, intent: Json, seconds: float) -> None:
        """Hold the amount on the card for `seconds`: the intent requires capture."""
        lapses_at = time.time() + seconds
        charge = new_charge(intent, captured=False, capture_before=int(lapses_at))
        self.charges[charge["id"]] = charge
        self.lapses_at[intent["id"]] = lapses_at
        intent.update(
            status="requires_capture",
            amount_capturable=intent["amount"],
            latest_charge=charge["id"],
        )

    def lapse(self, intents: dict[str, Json]) -> None:
        """Cancel the authorisations past their capture_before, as Stripe does: `automatic`."""
        now = time.time()
        for intent_id, at in list(self.lapses_at.items()):
            if at <= now:
                self.release(intents[intent_id], "automatic")

    def release(self, intent: Json, reason: str) -> None:
        """Cancel the intent; an authorisation it held is voided and its money released."""
        self.lapses_at.pop(intent["id"], None)
        intent.update(status="canceled", cancellation_reason=reason, amount_capturable=0)

    def capture(self, intent: Json, params: Json) -> int:
        """Capture all, or `amount_to_capture`, of the authorisation and release the rest;
        the amount captured."""
        if intent["status"] != "requires_capture":
            error = invalid(
                NOT_CAPTURABLE.format(intent["status"]), code="payment_intent_unexpected_state"
            )
            error.error["payment_intent"] = copy.deepcopy(intent)
            raise error
        capturable = intent["amount_capturable"]
        amount = positive_param(params, "amount_to_capture", required=False) or capturable
        if amount > capturable:
            message = TOO_LARGE.format(amount, capturable)
            raise invalid(message, "amount_to_capture", "amount_too_large")
        self.lapses_at.pop(intent["id"], None)
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        self.charges[intent["latest_charge"]].update(captured=True, amount_captured=amount)
        return int(amount)

    def shown(self, intent: Json, params: Json, within: str = "") -> Json:
        """The intent as answered: `latest_charge` is the charge itself when expand[] asks
        (`data.latest_charge` for the intents `within` a list's `data.`)."""
        shown = copy.deepcopy(intent)
        expand = params.get("expand")
        wanted = expand.values() if isinstance(expand, dict) else [expand]
        if f"{within}latest_charge" in wanted and intent["latest_charge"] is not None:
            shown["latest_charge"] = copy.deepcopy(self.charges[intent["latest_charge"]])
        return shown
