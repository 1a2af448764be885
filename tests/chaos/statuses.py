"""Order statuses as a chaos run judges them: final, fulfilled, off the shelf."""

from __future__ import annotations

# A pickup order ready at its warehouse waits on its customer as a shipped one on its carrier:
# final for a run, fulfilled for its money, but its units are still on the shelf, reserved.
WAITING_FOR_PICKUP = "ready_for_pickup"
# A partially shipped order waits for stock for its later parts, as a backordered one does for
# all of it: final for a run once its shipped part is paid; the parts still to come are not.
PARTIALLY_SHIPPED = "partially_shipped"
FINAL = frozenset(
    {"shipped", "delivered", WAITING_FOR_PICKUP, "collected", "rejected", "payment_failed"}
    | {"cancelled", PARTIALLY_SHIPPED}
)
FULFILLED = frozenset({"shipped", "delivered", WAITING_FOR_PICKUP, "collected"})
OFF_THE_SHELF = FULFILLED - {WAITING_FOR_PICKUP}
