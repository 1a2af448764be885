"""Stripe's test payment methods the sandbox knows, and what confirming each one does."""

from __future__ import annotations

# Stripe's country test cards (a Visa issued in that country) succeed like pm_card_visa.
# fmt: off
COUNTRY_CARDS = {
    f"pm_card_{country}"
    for country in ("us", "ca", "mx", "br", "gb", "ie", "fr", "de", "nl", "be", "at", "ch",
                    "it", "es", "pt", "dk", "no", "se", "fi", "pl", "au", "jp", "sg")
}
# fmt: on
SUCCEEDING = {"pm_card_visa", "pm_card_mastercard", *COUNTRY_CARDS}
# Payment methods whose intent does not settle at once: Stripe's card that asks the customer
# to authenticate (never settles here, there is no customer), and a sandbox card that stays
# `processing` for PROCESSING_SECONDS and then succeeds (or, with manual capture, is
# authorised), as a bank debit does.
PENDING = {"pm_card_authenticationRequired": "requires_action", "pm_card_processing": "processing"}
PROCESSING_SECONDS = 1.0
# Stripe's test payment methods that decline: (code, decline_code, message).
DECLINES: dict[str, tuple[str, str | None, str]] = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedProcessingError": (
        "processing_error",
        None,
        "An error occurred while processing your card. Try again in a little bit.",
    ),
}
KNOWN = SUCCEEDING | DECLINES.keys() | PENDING.keys()
