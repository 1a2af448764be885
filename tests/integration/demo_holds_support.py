"""What the demo's holds leave under `make run`: orders held for their card's country, the
released ones paid and shipped, the cancelled one never charged, and the signed `order.held`
and `order.released` events the devstack's webhook receiver verified and kept."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from devstack.demo_holds import HOLDS, RELEASES
from devstack.postgres import plain_url
from devstack.processes import whole_lines
from models.store.holds import HELD, RELEASED
from tests.integration.runner_support import eventually

HELD_ORDERS = """
SELECT o.id::text, o.status, e.detail->>'reason',
       EXISTS (SELECT 1 FROM order_event r WHERE r.order_id = o.id AND r.kind = %(released)s),
       EXISTS (SELECT 1 FROM order_event p WHERE p.order_id = o.id AND p.kind = 'paid')
FROM "order" o JOIN order_event e ON e.order_id = o.id AND e.kind = %(held)s
ORDER BY e.id
"""
# The deliveries of those orders' hold events, and how each ended.
DELIVERIES = """
SELECT d.order_id::text, e.type, d.status, d.last_status_code
FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id
WHERE e.type IN ('order.held', 'order.released')
"""
WEBHOOK_SECONDS = 30.0


@dataclass(frozen=True)
class HeldOrder:
    """An order the rules held, and what became of it."""

    order_id: str
    status: str
    reason: str
    released: bool
    paid: bool


def _rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(plain_url(database_url), connect_timeout=5) as connection:
        return connection.execute(query, {"held": HELD, "released": RELEASED}).fetchall()


def held_orders(database_url: str) -> list[HeldOrder]:
    """Every order that was held, in the order they were held."""
    return [
        HeldOrder(str(row[0]), str(row[1]), str(row[2]), bool(row[3]), bool(row[4]))
        for row in _rows(database_url, HELD_ORDERS)
    ]


def _expected_events(held: list[HeldOrder]) -> set[tuple[str, str]]:
    return {("order.held", h.order_id) for h in held} | {
        ("order.released", h.order_id) for h in held if h.released
    }


def _received(log: Path, wanted: set[tuple[str, str]]) -> list[dict[str, Any]] | None:
    """The hold events the receiver verified and kept, once every wanted one is there."""
    events = [json.loads(line) for line in whole_lines(log)]
    kept = [e for e in events if e["type"] in {"order.held", "order.released"}]
    got = {(str(e["type"]), str(e["data"]["order_id"])) for e in kept}
    return kept if wanted <= got else None


def _delivered(database_url: str, wanted: set[tuple[str, str]]) -> bool | None:
    """True once each wanted event's delivery succeeded with a 200: the receiver answers 400
    to a signature it cannot verify, so each of these was signed with its secret."""
    done = {
        (str(kind), str(order))
        for order, kind, status, code in _rows(database_url, DELIVERIES)
        if status == "succeeded" and code == 200
    }
    return True if wanted <= done else None


def assert_holds_reviewed(database_url: str, data: Path) -> None:
    """The demo's held orders: released ones shipped, one cancelled, each event delivered."""
    held = held_orders(database_url)
    assert len(held) == HOLDS, held
    assert {h.reason for h in held} == {"country_mismatch"}
    released = [h for h in held if h.released]
    assert len(released) == RELEASES, held
    assert all(h.paid and h.status in {"shipped", "delivered"} for h in released), held
    others = [(h.status, h.paid) for h in held if not h.released]
    assert others == [("cancelled", False)] * (HOLDS - RELEASES), held

    wanted = _expected_events(held)
    kept = eventually(
        lambda: _received(data / "webhooks.jsonl", wanted), WEBHOOK_SECONDS, "hold events"
    )
    for event in kept:
        if event["type"] == "order.held":
            assert event["data"]["detail"]["reason"] == "country_mismatch", event
    eventually(lambda: _delivered(database_url, wanted), WEBHOOK_SECONDS, "hold deliveries")
