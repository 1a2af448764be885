"""The names of the workers' tasks, as follow-up rows name them.

Rows are written by the intake, the dispatcher and the workers alike; the names are the
contract between them, so none of the writers needs to import the task code.
"""

from __future__ import annotations

ALLOCATE = "fulfillment.allocate"
CHARGE = "fulfillment.charge"
SHIP = "fulfillment.ship"
# The charge and the shipping of a later part of a partially shipped order: (order_id, part).
CHARGE_PART = "fulfillment.charge_part"
SHIP_PART = "fulfillment.ship_part"
NOTIFY = "fulfillment.notify"
REFUND = "fulfillment.refund"
# A refund of some lines of an order (a cancelled line, a return): one gateway refund each.
REFUND_PART = "fulfillment.refund_part"
SETTLE_PAYMENT = "fulfillment.settle_payment"
# The label a customer sends a return back under, booked with the carrier once it is opened.
RETURN_LABEL = "fulfillment.return_label"
ALERT_LOW_STOCK = "fulfillment.alert_low_stock"
# One event to one shop's webhook endpoint; and operations told a subscription was disabled.
DELIVER_WEBHOOK = "fulfillment.deliver_webhook"
ALERT_WEBHOOK_DISABLED = "fulfillment.alert_webhook_disabled"

# The queue each step's tasks wait on, as celeryconfig routes them (a unit test holds the two
# together). A queue is what can be paused, so pausing a step pauses the others on its queue.
STEP_QUEUES = {
    "allocate": "allocation",
    "charge": "payments",
    "refund": "payments",
    "settle": "payments",
    "ship": "shipping",
    "notify": "notifications",
    "webhook": "webhooks",
}
# The tasks started from follow-up rows, by the queue they wait on.
QUEUE_TASKS = {
    "allocation": (ALLOCATE,),
    "payments": (CHARGE, CHARGE_PART, REFUND, REFUND_PART, SETTLE_PAYMENT),
    "shipping": (SHIP, SHIP_PART, RETURN_LABEL),
    "notifications": (NOTIFY, ALERT_LOW_STOCK),
    "webhooks": (DELIVER_WEBHOOK, ALERT_WEBHOOK_DISABLED),
}
