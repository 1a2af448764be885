"""What the catalogue and stock administration refuse, in the user's words."""

from __future__ import annotations


class InventoryError(Exception):
    """A change the inventory refuses: the field at fault and the reason, in the user's words."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(InventoryError):
    """The warehouse or product a change is about does not exist."""


class Conflict(InventoryError):
    """The change collides with what exists, like a warehouse code already in use."""
