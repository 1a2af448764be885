"""The demo's after-checkout phase: what customers and staff do once orders are placed.

A few new orders get a line cancelled (refunded if it was paid); a few shipped orders are
marked delivered, returned in part by their customers, and received back by staff (restocked
or quarantined by reason, refunded). Each action is a real API call with the same access a
customer or a member of staff would use; the table says how each went.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from intake.auth import issue_admin_token
from settings import Settings

CANCELS = 3
RETURNS = 3
# A cancel while the charge is in flight is refused with 409 and Retry-After: try again.
CANCEL_TRIES = 20
RETURN_REASONS = ("no_longer_needed", "damaged", "wrong_item")


@dataclass(frozen=True)
class Placed:
    """An order the demo placed: where it is, and the guest token that opens it."""

    status_url: str
    token: str
    status: str


Post = Callable[..., requests.Response]


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": f'"{uuid.uuid4()}"'}


def cancel_a_line(post: Post, order: Placed) -> str:
    """Cancel one unit of the order's last line as its guest; how it went."""
    body = {"lines": [{"line_no": 1, "quantity": 1}], "reason": "changed my mind"}
    for _ in range(CANCEL_TRIES):
        response = post(
            f"{order.status_url}/lines/cancel", json=body, headers=_headers(order.token)
        )
        if response.status_code != 409 or "Retry-After" not in response.headers:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return "line cancelled" if response.ok else f"line cancel refused ({response.status_code})"


def return_a_line(post: Post, patch: Post, order: Placed, staff: str, reason: str) -> str:
    """Deliver the order (as its carrier would), return one unit as its guest, receive it."""
    delivered = patch(
        f"{order.status_url}/status", json={"status": "delivered"}, headers=_headers(staff)
    )
    if not delivered.ok:
        return f"not delivered ({delivered.status_code})"
    body = {"lines": [{"line_no": 1, "quantity": 1}], "reason": reason}
    opened = post(f"{order.status_url}/returns", json=body, headers=_headers(order.token))
    if not opened.ok:
        return f"return refused ({opened.status_code})"
    rma = str(opened.json()["rma_number"])
    receipt = {"lines": [{"line_no": 1, "received": 1, "accepted": 1}]}
    received = post(
        f"{order.status_url}/returns/{rma}/receive", json=receipt, headers=_headers(staff)
    )
    return (
        "returned and refunded" if received.ok else f"return not received ({received.status_code})"
    )


def after_checkout(
    session: requests.Session,
    settings: Settings,
    fresh: Sequence[Placed],
    shipped: Sequence[Placed],
) -> list[tuple[str, str]]:
    """Cancel lines of `fresh` orders and return parts of `shipped` ones; table rows."""
    staff = issue_admin_token(settings, "demo-staff", 30)
    outcomes: Counter[str] = Counter()
    for order in fresh[:CANCELS]:
        outcomes[cancel_a_line(session.post, order)] += 1
    for index, order in enumerate(shipped[:RETURNS]):
        reason = RETURN_REASONS[index % len(RETURN_REASONS)]
        outcomes[return_a_line(session.post, session.patch, order, staff, reason)] += 1
    return [(label, str(count)) for label, count in sorted(outcomes.items())]


def placed_orders(tracked: Sequence[Any], statuses: frozenset[str]) -> list[Placed]:
    """The tracked orders now in one of `statuses`, as the after-checkout phase needs them."""
    return [
        Placed(t.status_url, t.token, t.status)
        for t in tracked
        if t.status_url is not None and t.token is not None and t.status in statuses
    ]
