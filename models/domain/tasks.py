"""The names of the workers' tasks, as follow-up rows name them.

Rows are written by the intake, the dispatcher and the workers alike; the names are the
contract between them, so none of the writers needs to import the task code.
"""

from __future__ import annotations

ALLOCATE = "fulfillment.allocate"
CHARGE = "fulfillment.charge"
SHIP = "fulfillment.ship"
NOTIFY = "fulfillment.notify"
REFUND = "fulfillment.refund"
SETTLE_PAYMENT = "fulfillment.settle_payment"
ALERT_LOW_STOCK = "fulfillment.alert_low_stock"
