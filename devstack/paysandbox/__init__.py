"""A Stripe-compatible payment sandbox: the API subset the SDK uses, idempotency keys and faults."""

from devstack.paysandbox.app import create_sandbox_app
from devstack.paysandbox.ledger import ApiError, Faults, LedgerEntry, Sandbox, Stored

__all__ = ["ApiError", "Faults", "LedgerEntry", "Sandbox", "Stored", "create_sandbox_app"]
