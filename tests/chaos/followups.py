"""After an order is accepted: an admin cancels some, a carrier delivers split parcels at once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import requests

from intake.signatures import sign
from tests.chaos.clients import Placed
from tests.chaos.statuses import FINAL

Action = Literal["cancel_soon", "cancel_in_trouble", "deliver"]

# A charge is being tried (allocated) or has just been taken (paid): the cancels worth racing.
CHARGING = frozenset({"allocated", "paid"})
REQUEST_TIMEOUT = 10.0
WEBHOOK_ATTEMPTS = 3
POLL_INTERVAL = 1.0
# After the gateway trouble, how long an order chosen for a cancel may take to start charging.
CHARGING_PATIENCE = 40.0


@dataclass
class FollowUp:
    """One thing to do about one order once the moment is right."""

    placed: Placed
    action: Action
    due: float = 0.0
    done: bool = False
    outcome: str = ""


class FollowUps:
    """Cancels through the admin API and signed carrier webhooks, as their orders get there."""

    def __init__(
        self,
        api: str,
        admin_token: str,
        webhook_secret: str,
        payment_trouble: threading.Event,
        trouble_over: threading.Event,
    ) -> None:
        """Follow-ups against the intake at `api`."""
        self._api, self._secret = api, webhook_secret
        self._admin = {"Authorization": f"Bearer {admin_token}"}
        self._trouble, self._trouble_over = payment_trouble, trouble_over
        self._trouble_over_seen: float | None = None
        self._lock = threading.Lock()
        self._items: list[FollowUp] = []
        self.stopping = threading.Event()
        self.cancel_answers: Counter[int] = Counter()
        self.webhook_answers: Counter[int] = Counter()
        self.delivered_by_carrier: set[str] = set()

    def register(self, placed: Placed) -> None:
        """Queue what the plan wants done with this accepted order."""
        planned, items = placed.planned, []
        if planned.cancel == "soon":
            due = (placed.accepted_at or time.monotonic()) + planned.cancel_after
            items.append(FollowUp(placed, "cancel_soon", due))
        elif planned.cancel == "in_payment_trouble":
            items.append(FollowUp(placed, "cancel_in_trouble"))
        if planned.deliver:
            items.append(FollowUp(placed, "deliver"))
        with self._lock:
            self._items.extend(items)

    def pending(self) -> int:
        """Follow-ups not done yet."""
        with self._lock:
            return sum(not item.done for item in self._items)

    def outcomes(self) -> Counter[str]:
        """How the follow-ups ended, by action and outcome."""
        with self._lock:
            return Counter(f"{i.action}: {i.outcome or 'pending'}" for i in self._items)

    def run(self) -> None:
        """Work through the follow-ups until stopped."""
        with ThreadPoolExecutor(4, thread_name_prefix="followup") as pool:
            while not self.stopping.wait(POLL_INTERVAL):
                with self._lock:
                    due = [item for item in self._items if not item.done]
                for _ in pool.map(self._advance, due):
                    pass

    def _advance(self, item: FollowUp) -> None:
        if item.action == "cancel_soon":
            if time.monotonic() >= item.due:
                self._cancel(item)
            return
        status, view = self._view(item.placed)
        if status is None:
            return
        if item.action == "deliver":
            if status == "shipped":
                self._deliver(item, view.get("shipments", []))
            elif status in FINAL:
                item.done, item.outcome = True, f"not delivered: {status}"
        else:
            self._cancel_if_charging(item, status)

    def _cancel_if_charging(self, item: FollowUp, status: str) -> None:
        """Cancel while the charge is tried, or given up on once the order took too long."""
        if self._trouble_over.is_set() and self._trouble_over_seen is None:
            self._trouble_over_seen = time.monotonic()
        # Charges go on being retried, with backoff, for a while after the gateway recovers.
        when = "during" if self._trouble.is_set() else "after"
        if status in CHARGING and (self._trouble.is_set() or self._trouble_over_seen):
            self._cancel(item, f"cancelled while {status}, {when} the gateway trouble")
        elif status in FINAL:
            item.done, item.outcome = True, f"not cancelled: {status} first"
        elif (
            self._trouble_over_seen is not None
            and time.monotonic() - self._trouble_over_seen > CHARGING_PATIENCE
        ):
            self._cancel(item, f"cancelled while {status}, never charging")

    def _cancel(self, item: FollowUp, outcome: str = "cancelled") -> None:
        order_id = item.placed.order_id
        copies = 2 if item.placed.planned.cancel_twice else 1
        barrier = threading.Barrier(copies)
        answers: list[int] = []

        def send() -> None:
            barrier.wait(timeout=REQUEST_TIMEOUT)
            answers.append(self._post_cancel(str(order_id)))

        threads = [threading.Thread(target=send) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with self._lock:
            self.cancel_answers.update(answers)
        item.done, item.outcome = True, f"{outcome} ({'/'.join(map(str, sorted(answers)))})"

    def _post_cancel(self, order_id: str) -> int:
        try:
            response = requests.post(
                f"{self._api}/admin/orders/{order_id}/cancel",
                json={"reason": "chaos: the customer changed their mind"},
                headers=self._admin,
                timeout=REQUEST_TIMEOUT,
            )
        except requests.RequestException:
            return 0
        return response.status_code

    def _deliver(self, item: FollowUp, shipments: list[dict[str, Any]]) -> None:
        """Every parcel delivered at the same moment: one signed webhook each, sent together."""
        numbers = [str(s["tracking_number"]) for s in shipments]
        barrier = threading.Barrier(max(1, len(numbers)))
        delivered: list[bool] = []

        def send(index: int, number: str) -> None:
            barrier.wait(timeout=REQUEST_TIMEOUT)
            delivered.append(self._webhook(f"evt-{item.placed.order_id}-{index}", number))

        threads = [threading.Thread(target=send, args=pair) for pair in enumerate(numbers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if numbers and all(delivered):
            with self._lock:
                self.delivered_by_carrier.add(str(item.placed.order_id))
        item.done, item.outcome = True, f"{len(numbers)} parcels, {sum(delivered)} accepted"

    def _webhook(self, event_id: str, tracking_number: str) -> bool:
        """Send one delivery event; a retry of an event already taken counts as taken."""
        occurred = datetime.now(UTC).isoformat()
        body = json.dumps(
            {
                "id": event_id,
                "type": "shipment.delivered",
                "tracking_number": tracking_number,
                "occurred_at": occurred,
            }
        ).encode()
        for attempt in range(WEBHOOK_ATTEMPTS):
            signature = sign(self._secret, body, int(time.time()))
            try:
                response = requests.post(
                    f"{self._api}/webhooks/carrier",
                    data=body,
                    headers={"Carrier-Signature": signature, "Content-Type": "application/json"},
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException:
                continue
            with self._lock:
                self.webhook_answers[response.status_code] += 1
            if response.status_code == 200 or (attempt and response.status_code == 409):
                return True
            if response.status_code < 500:
                return False
        return False

    def _view(self, placed: Placed) -> tuple[str | None, dict[str, Any]]:
        """The order's status as its customer sees it; None when the read failed."""
        headers = {"Authorization": f"Bearer {placed.token}"}
        try:
            response = requests.get(
                str(placed.status_url), headers=headers, timeout=REQUEST_TIMEOUT
            )
            view = response.json() if response.ok else {}
        except (requests.RequestException, ValueError):
            return None, {}
        status = view.get("status") if isinstance(view, dict) else None
        return (str(status), view) if status else (None, {})
