"""The words the order page uses for statuses, timeline events, parcels and notices."""

from __future__ import annotations

STATUSES = {
    "received": "We have your order",
    "backordered": "Waiting for stock",
    "allocated": "Being prepared",
    # A hold for review is ours to settle: the customer sees an order being prepared.
    "on_hold": "Being prepared",
    "paid": "Paid and being packed",
    "partially_shipped": "Partly on its way: the rest follows when it is in stock",
    "shipped": "On its way",
    "delivered": "Delivered",
    "ready_for_pickup": "Ready for pickup",
    "collected": "Collected",
    "rejected": "We could not fill this order",
    "payment_failed": "The payment did not go through",
    "cancelled": "Cancelled",
}

# What the customer's timeline shows; anything else (dispatching, mails, re-drives) is ours.
EVENTS = {
    "received": "Order placed",
    "backordered": "Put on backorder: part of it is out of stock",
    "allocated": "Stock reserved for you",
    "paid": "Payment confirmed",  # also when the card is only authorised
    "payment_failed": "Payment did not go through",
    "rejected": "Order could not be filled",
    "part_backordered": "Part of it is out of stock: it follows when it arrives",
    "partially_shipped": "Part of it handed to the carrier",
    "part_paid": "Payment confirmed for the next part",
    "part_shipped": "Another part handed to the carrier",
    "shipped": "Handed to the carrier",
    "in_transit": "On its way",
    "delivered": "Delivered",
    "ready_for_pickup": "Ready for pickup at the warehouse",
    "collected": "Collected",
    "cancelled": "Cancelled",
    "refunded": "Money returned",
    "lines_cancelled": "Some items cancelled",
    "part_refunded": "Money returned for cancelled items",
    "return_opened": "Return opened",
    "return_received": "Return received",
}

PARCELS = {
    "label_created": "Label printed",
    "in_transit": "On its way",
    "delivered": "Delivered",
}

# What the page says after one of its buttons did (or could not do) its work.
NOTICES = {
    "cancelled": "Your order is cancelled. If you were charged, the money is on its way back.",
    "not_cancellable": "This order can no longer be cancelled: it has left the warehouse.",
    "lines_cancelled": "Those items are cancelled. If you were charged for them, the money is "
    "on its way back.",
    "lines_not_cancellable": "Those items can no longer be cancelled: they have left the "
    "warehouse, or were cancelled already.",
    "payment_in_progress": "Your payment is being taken right now: try again in a moment.",
}


def parcel_status(status: str) -> str:
    """A parcel's status in words."""
    return PARCELS.get(status, status.replace("_", " ").capitalize())
