"""The demo's holds for review: a few orders paid with a card from another country are held
before they are charged (HOLD_COUNTRY_MISMATCH, which `make run` turns on), then staff
release some, to be charged and shipped, and cancel the last, through the same API a shop's
staff would use. Each hold and release is an `order.held` / `order.released` webhook event.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence

import requests

from devstack.demo_after import Placed

HOLDS = 3
RELEASES = 2
# How long a held order may take to be held, and a released one to be shipped: the pipeline
# is idle by then, so each takes a second or two.
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.25
HELD = "on_hold"
# Where a released order's watch ends: it was charged, and shipped or about to be.
SHIPPED = frozenset({"shipped", "delivered"})
NOT_RESUMED = frozenset({"payment_failed", "cancelled", "rejected"})

Get = Callable[..., requests.Response]
Post = Callable[..., requests.Response]


def _staff(staff: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff}", "Idempotency-Key": f'"{uuid.uuid4()}"'}


def status_of(get: Get, order: Placed) -> str:
    """The order's status as its guest reads it; an empty string if it could not be read."""
    try:
        response = get(
            order.status_url, headers={"Authorization": f"Bearer {order.token}"}, timeout=10
        )
    except requests.RequestException:
        return ""
    return str(response.json().get("status", "")) if response.ok else ""


def wait_for(get: Get, order: Placed, wanted: frozenset[str]) -> str:
    """Poll until the order is in one of `wanted` (or can no longer get there); its status."""
    deadline, status = time.monotonic() + WAIT_SECONDS, ""
    while time.monotonic() < deadline:
        status = status_of(get, order)
        if status in wanted or status in NOT_RESUMED:
            return status
        time.sleep(POLL_SECONDS)
    return status


def release(post: Post, order: Placed, staff: str) -> str | None:
    """Release a held order as staff, to be charged once; None, or why it was refused."""
    body = {"note": "checked with the customer"}
    answer = post(f"{order.status_url}/hold/release", json=body, headers=_staff(staff))
    return None if answer.ok else f"hold release refused ({answer.status_code})"


def cancel(post: Post, order: Placed, staff: str) -> str:
    """Cancel a held order as staff: its stock goes back, and nothing was charged."""
    body = {"reason": "card from another country, not confirmed"}
    answer = post(f"{order.status_url}/cancel", json=body, headers=_staff(staff))
    return "held and cancelled" if answer.ok else f"held, cancel refused ({answer.status_code})"


def review(session: requests.Session, staff: str, placed: Sequence[Placed]) -> Counter[str]:
    """Wait for each order to be held, release the first RELEASES and cancel the rest; then
    watch the released ones be charged and shipped."""
    outcomes: Counter[str] = Counter()
    released: list[Placed] = []
    for index, order in enumerate(placed):
        status = wait_for(session.get, order, frozenset({HELD}))
        if status != HELD:
            # HOLD_COUNTRY_MISMATCH is off where the demo runs against another stack.
            outcomes[f"not held ({status or 'unknown'})"] += 1
        elif index >= RELEASES:
            outcomes[cancel(session.post, order, staff)] += 1
        elif refused := release(session.post, order, staff):
            outcomes[refused] += 1
        else:
            released.append(order)
    for order in released:
        status = wait_for(session.get, order, SHIPPED)
        shipped = status in SHIPPED
        outcomes["held, released and shipped" if shipped else f"released, then {status}"] += 1
    return outcomes
