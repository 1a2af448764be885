"""Stock rules: what is sellable, and when a shelf runs low."""

from __future__ import annotations


def threshold_of(own: int | None, default: int) -> int:
    """A stock row's low-stock threshold: its own, else the shop's."""
    return default if own is None else own


def is_low(sellable: int, threshold: int) -> bool:
    """Whether sellable units have fallen below the threshold (an alert is due)."""
    return sellable < threshold


def increased(before_sellable: int, after_sellable: int) -> bool:
    """Whether units became sellable, so that orders waiting for stock may now be filled."""
    return after_sellable > before_sellable
