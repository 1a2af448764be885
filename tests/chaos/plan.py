"""The run drawn from one seed: which orders the clients send, when, and the faults in between."""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any, Literal

from tests.chaos.catalogue import AMPLE, SCARCE, SPLIT_A, SPLIT_B

Mix = Literal["ample", "scarce", "split", "declined"]
Duplicate = Literal["none", "sequential", "concurrent"]
Cancel = Literal["none", "soon", "in_payment_trouble"]

GOOD_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"
CONCURRENT_COPIES = 3
# (postal code, city, country): a mix of both countries the warehouses are in.
CITIES = (
    ("10001", "New York", "US"),
    ("60601", "Chicago", "US"),
    ("94103", "San Francisco", "US"),
    ("73301", "Austin", "US"),
    ("02108", "Boston", "US"),
    ("211 19", "Malmö", "SE"),
    ("411 03", "Göteborg", "SE"),
    ("343 30", "Älmhult", "SE"),
)
SHARES: dict[Mix, float] = {"declined": 0.06, "scarce": 0.10, "split": 0.10}
SEQUENTIAL_DUPLICATES, CONCURRENT_DUPLICATES = 0.08, 0.08
SOON_CANCELS, TROUBLE_CANCELS, TWICE_CANCELLED = 0.05, 0.35, 0.3
MAX_TROUBLE_CANCELS = 8

# (kind, how many, shortest and longest duration in seconds; 0 for a single blow)
FAULT_KINDS: tuple[tuple[str, int, tuple[float, float]], ...] = (
    ("kill_pool_child", 3, (0.0, 0.0)),
    ("kill_worker", 1, (2.0, 4.0)),
    ("kill_payments_worker", 1, (2.0, 4.0)),
    ("kill_dispatcher", 1, (2.0, 5.0)),
    ("restart_redis", 1, (1.0, 2.0)),
    ("duplicate_sqs", 2, (0.0, 0.0)),
    ("payment_timeouts", 1, (10.0, 15.0)),
    ("payment_5xx", 1, (10.0, 15.0)),
    ("smtp_outage", 1, (8.0, 14.0)),
)
PAYMENT_FAULTS = frozenset({"payment_timeouts", "payment_5xx"})
FIRST_FAULT_AT = 4.0
# The general worker's prefork children (devstack/commands.py): every one may be mid-send.
GENERAL_WORKER_CONCURRENCY = 4
FAULTS_AFTER_PLACING = 6.0


@dataclass(frozen=True)
class PlannedOrder:
    """One order a client sends at `at` seconds, and what the clients do with it afterwards."""

    index: int
    key: str
    body: dict[str, Any]
    at: float
    mix: Mix
    duplicate: Duplicate = "none"
    cancel: Cancel = "none"
    cancel_after: float = 0.0
    cancel_twice: bool = False
    deliver: bool = False


@dataclass(frozen=True)
class Fault:
    """A fault that starts `at` seconds into the run and lasts `duration` seconds."""

    kind: str
    at: float
    duration: float = 0.0

    @property
    def end(self) -> float:
        """When the fault is over."""
        return self.at + self.duration


@dataclass(frozen=True)
class Plan:
    """Everything the seed decides."""

    seed: int
    orders: tuple[PlannedOrder, ...]
    faults: tuple[Fault, ...]
    placing_seconds: float

    @property
    def mail_senders_killed(self) -> int:
        """Processes the faults kill that may each be sending a mail at that moment."""
        per_kill = {"kill_pool_child": 1, "kill_worker": GENERAL_WORKER_CONCURRENCY}
        return sum(per_kill.get(fault.kind, 0) for fault in self.faults)

    @property
    def last_fault_end(self) -> float:
        """When the last fault is over, in seconds from the start."""
        return max((fault.end for fault in self.faults), default=0.0)


def make_plan(seed: int, orders: int, rate: float) -> Plan:
    """The orders, their timing and the fault schedule for `seed`."""
    rng = random.Random(seed)
    placing = max(30.0, orders / rate)
    times = sorted(rng.uniform(0.0, placing) for _ in range(orders))
    planned = [_order(rng, seed, index, at) for index, at in enumerate(times)]
    faults = _faults(rng, placing + FAULTS_AFTER_PLACING)
    for fault in faults:
        if fault.kind in PAYMENT_FAULTS:
            planned = _cancel_in_trouble(rng, planned, fault)
    return Plan(seed, tuple(planned), tuple(faults), placing)


def _order(rng: random.Random, seed: int, index: int, at: float) -> PlannedOrder:
    roll = rng.random()
    mix: Mix = "ample"
    for candidate, share in SHARES.items():
        if roll < share:
            mix = candidate
            break
        roll -= share
    duplicate: Duplicate = "none"
    if (draw := rng.random()) < SEQUENTIAL_DUPLICATES:
        duplicate = "sequential"
    elif draw < SEQUENTIAL_DUPLICATES + CONCURRENT_DUPLICATES:
        duplicate = "concurrent"
    soon = rng.random() < SOON_CANCELS
    return PlannedOrder(
        index=index,
        key=f"chaos-{seed}-{index:05d}",
        body=_body(rng, seed, index, mix),
        at=at,
        mix=mix,
        duplicate=duplicate,
        cancel="soon" if soon else "none",
        cancel_after=rng.uniform(0.0, 4.0),
        cancel_twice=rng.random() < TWICE_CANCELLED,
        deliver=mix == "split" and not soon,
    )


def _body(rng: random.Random, seed: int, index: int, mix: Mix) -> dict[str, Any]:
    postal_code, city, country = rng.choice(CITIES)
    lines = [
        {"article_number": article, "quantity": rng.randint(1, 3)}
        for article, *_ in rng.sample(AMPLE, rng.randint(1, 2))
    ]
    if mix == "scarce":
        lines = [{"article_number": SCARCE[0], "quantity": rng.randint(1, 3)}, *lines[:1]]
    elif mix == "split":
        lines = [{"article_number": article, "quantity": 1} for article in (SPLIT_A[0], SPLIT_B[0])]
    methods = ["curbside", "in_door", "self_service"] if mix == "ample" else ["curbside", "in_door"]
    return {
        # One address per order: any second order under one key shows as a second row with it.
        "customer": {"email": f"chaos-{seed}-{index}@example.com", "name": f"Chaos Client {index}"},
        "shipping_address": {
            "line1": f"{rng.randint(1, 999)} Main Street",
            "city": city,
            "postal_code": postal_code,
            "country": country,
        },
        "delivery_method": rng.choice(methods),
        "payment_method": DECLINED_CARD if mix == "declined" else GOOD_CARD,
        "lines": lines,
    }


def _faults(rng: random.Random, window_end: float) -> list[Fault]:
    faults = []
    for kind, count, (shortest, longest) in FAULT_KINDS:
        for _ in range(count):
            duration = rng.uniform(shortest, longest)
            at = rng.uniform(FIRST_FAULT_AT, max(FIRST_FAULT_AT, window_end - duration))
            faults.append(Fault(kind, round(at, 2), round(duration, 2)))
    return sorted(faults, key=lambda fault: (fault.at, fault.kind))


def _cancel_in_trouble(
    rng: random.Random, orders: list[PlannedOrder], fault: Fault
) -> list[PlannedOrder]:
    """Mark orders placed just before or during a payment fault to be cancelled while it lasts."""
    # Placed a few seconds before the fault, an order is allocated and charging when it hits.
    eligible = [
        o.index
        for o in orders
        if fault.at - 3.0 <= o.at <= fault.end - 3.0 and o.mix == "ample" and o.cancel == "none"
    ]
    chosen = set(
        rng.sample(eligible, min(MAX_TROUBLE_CANCELS, round(len(eligible) * TROUBLE_CANCELS)))
    )
    return [replace(o, cancel="in_payment_trouble") if o.index in chosen else o for o in orders]
